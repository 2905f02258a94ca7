import { randomUUID } from "node:crypto";
import { Client } from "@elastic/elasticsearch";
import { expect, it } from "vitest";
import { describeWithServer } from "../vitest.js";

describeWithServer("elasticsearch (@elastic/elasticsearch)", "ES_URL", (url) => {
  it("bulk-indexes documents, then searches and aggregates them", async () => {
    const client = new Client({ node: url });
    const index = `pump-smoke-${randomUUID()}`;
    try {
      // the integ-test-zip has no rest-root module: ping()/info() answer 405, cluster health works
      const health = await client.cluster.health({ wait_for_status: "yellow", timeout: "10s" });
      expect(["green", "yellow"]).toContain(health.status);

      await client.indices.create({
        index,
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { n: { type: "integer" }, kind: { type: "keyword" }, text: { type: "text" } } },
      });
      const docs = Array.from({ length: 200 }, (_, n) => ({ n, kind: n % 2 ? "odd" : "even", text: `document number ${n}` }));
      const bulk = await client.helpers.bulk({
        datasource: docs,
        onDocument: (doc) => ({ index: { _index: index, _id: String(doc.n) } }),
        refreshOnCompletion: index,
      });
      expect(bulk.successful).toBe(200);
      expect(bulk.failed).toBe(0);

      const found = await client.search<{ n: number }>({
        index,
        query: { bool: { filter: [{ term: { kind: "odd" } }, { range: { n: { lt: 20 } } }] } },
        sort: [{ n: "asc" }],
        size: 50,
      });
      // oxlint-disable-next-line no-underscore-dangle -- the API's field name
      expect(found.hits.hits.map((h) => h._source!.n)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);

      const aggs = await client.search({
        index,
        size: 0,
        aggs: { kinds: { terms: { field: "kind" }, aggs: { total: { sum: { field: "n" } } } } },
      });
      const buckets = (aggs.aggregations!.kinds as { buckets: { key: string; doc_count: number; total: { value: number } }[] })
        .buckets;
      expect(buckets.map((b) => [b.key, b.doc_count, b.total.value]).toSorted()).toEqual([
        ["even", 100, 9900],
        ["odd", 100, 10000],
      ]);
      const text = await client.count({ index, query: { match: { text: "number" } } });
      expect(text.count).toBe(200);
    } finally {
      await client.indices.delete({ index }, { ignore: [404] }).catch(() => {});
      await client.close();
    }
  });
});

// oxlint-disable no-underscore-dangle -- Elasticsearch's field names
import { describeWithServer } from "@pump/test-servers/vitest";
import { Pipeline, type ConfigValues } from "@pump/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElasticSearchAggsSource } from "../../src/aggs-source.js";
import { ElasticSearchConnection } from "../../src/connection.js";
import { ElasticSearchSource, ES_HIT_ID, ES_HIT_INDEX } from "../../src/source.js";
import type { RequestBody } from "../../src/request-body.js";
import { UnitTestSink, createApp, deleteIndices, testClient, uniqueIndex, until } from "../helpers.js";

type Doc = Record<string, unknown>;

const COUNT = 2500;
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

/** A source on a pipeline of its own, cycles started by hand; `cycle()` resolves once a cycle ended. */
async function sourceRig<S extends ElasticSearchSource | ElasticSearchAggsSource>(url: string, make: (app: ReturnType<typeof createApp>, pipeline: Pipeline) => S) {
  const app = createApp();
  const connection = new ElasticSearchConnection(app, "ES", { config: { url } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "SourcePipeline");
  const source = make(app, pipeline);
  const sink = new UnitTestSink<Doc>(app, pipeline);
  pipeline.build(source, sink);
  let cycles = 0;
  pipeline.pubsub.subscribe("bspump.pipeline.cycle_end!", () => {
    cycles++;
  });
  await connection.connect();
  await pipeline.start();
  return {
    source,
    sink,
    pipeline,
    async cycle(): Promise<void> {
      const before = cycles;
      source.trigger();
      await until(() => cycles > before, "the cycle to end");
    },
    async stop(): Promise<void> {
      await pipeline.stop();
      await connection.disconnect();
    },
  };
}

describeWithServer("ElasticSearchSource and ElasticSearchAggsSource against the node", "ES_URL", (url) => {
  const client = testClient(url);
  const index = uniqueIndex("source");

  beforeAll(async () => {
    await client.cluster.health({ wait_for_status: "yellow", timeout: "30s" });
    // Two shards, so paging crosses shards.
    await client.indices.create({
      index,
      settings: { number_of_shards: 2, number_of_replicas: 0 },
      mappings: { properties: { n: { type: "integer" }, kind: { type: "keyword" }, color: { type: "keyword" }, "@timestamp": { type: "date" } } },
    });
    const operations = Array.from({ length: COUNT }, (_, n) => [
      { index: { _index: index, _id: `d${n}` } },
      { n, kind: n % 2 === 0 ? "even" : "odd", color: ["red", "green", "blue", "cyan", "pink", "gray", "teal"][n % 7], "@timestamp": new Date(START + (n % 10) * DAY).toISOString() },
    ]).flat();
    const result = await client.bulk({ operations, refresh: true });
    expect(result.errors).toBe(false);
  });

  afterAll(async () => {
    await deleteIndices(client, index);
    await client.close();
  });

  describe("ElasticSearchSource pages through more documents than one page", () => {
    for (const paging of ["pit", "scroll", "search_after"] as const) {
      it(`paging=${paging}: every document once, page by page`, async () => {
        const config: ConfigValues = { index, paging, page_size: 300, timestamp: "", ...(paging === "search_after" ? { sort_by: "n" } : {}) };
        const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchSource(app, pipeline, "ES", { config }));
        try {
          await rig.cycle();
          const ns = rig.sink.events.map((e) => e.n as number);
          expect(ns).toHaveLength(COUNT);
          expect(new Set(ns).size).toBe(COUNT);
          if (paging === "search_after") expect(ns).toEqual(Array.from({ length: COUNT }, (_, n) => n));
          const context = rig.sink.contexts[0]!;
          expect(context[ES_HIT_INDEX]).toBe(index);
          expect(context[ES_HIT_ID]).toBe(`d${rig.sink.events[0]!.n as number}`);
          expect(rig.pipeline.isError()).toBe(false);
          // pit and scroll read the whole result again on the next trigger
          if (paging !== "search_after") {
            await rig.cycle();
            expect(rig.sink.events).toHaveLength(2 * COUNT);
          }
        } finally {
          await rig.stop();
        }
        const open = await client.nodes.stats({ metric: "indices", index_metric: "search" });
        const contexts = Object.values(open.nodes).reduce((sum, node) => sum + (node.indices?.search?.open_contexts ?? 0), 0);
        expect(contexts).toBe(0); // the point in time or scroll was closed
      });
    }

    it("paging=search_after tails: the next cycle goes on after the last document read", async () => {
      const tail = `${index}-tail`;
      await client.indices.create({ index: tail, mappings: { properties: { n: { type: "integer" } } } });
      try {
        await client.bulk({ operations: Array.from({ length: 700 }, (_, n) => [{ index: { _index: tail } }, { n }]).flat(), refresh: true });
        const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchSource(app, pipeline, "ES", { config: { index: tail, paging: "search_after", sort_by: "n", page_size: 250, timestamp: "" } }));
        try {
          await rig.cycle();
          expect(rig.sink.events).toHaveLength(700);
          await client.bulk({ operations: Array.from({ length: 50 }, (_, k) => [{ index: { _index: tail } }, { n: 700 + k }]).flat(), refresh: true });
          await rig.cycle();
          expect(rig.sink.events.slice(700).map((e) => e.n)).toEqual(Array.from({ length: 50 }, (_, k) => 700 + k));
          await rig.cycle();
          expect(rig.sink.events).toHaveLength(750);
        } finally {
          await rig.stop();
        }
      } finally {
        await deleteIndices(client, tail);
      }
    });

    it("a request body (query, _source filter) and paging=off: one page of what the query matches", async () => {
      const requestBody: RequestBody = { query: { term: { kind: "odd" } }, _source: ["n"], sort: [{ n: "desc" }], size: 10 };
      const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchSource(app, pipeline, "ES", { requestBody, config: { index, paging: "off" } }));
      try {
        await rig.cycle();
        expect(rig.sink.events).toEqual(Array.from({ length: 10 }, (_, k) => ({ n: COUNT - 1 - 2 * k })));
      } finally {
        await rig.stop();
      }
    });

    it("the default body: documents whose timestamp is at or after start_from", async () => {
      const from = new Date(START + 8 * DAY).toISOString();
      const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchSource(app, pipeline, "ES", { config: { index, start_from: from, page_size: 100 } }));
      try {
        await rig.cycle();
        expect(rig.sink.events).toHaveLength(COUNT / 5);
        expect(rig.sink.events.every((e) => (e.n as number) % 10 >= 8)).toBe(true);
      } finally {
        await rig.stop();
      }
    });

    it("a query Elasticsearch refuses is a pipeline error with its reason", async () => {
      const requestBody: RequestBody = { query: { range: { kind: { gte: "x", lt: "y", bogus_parameter: 1 } } } };
      const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchSource(app, pipeline, "ES", { requestBody, config: { index } }));
      try {
        await rig.cycle();
        expect(rig.pipeline.isError()).toBe(true);
        expect(String((rig.pipeline.error!.error as Error).message)).toMatch(/400.*bogus_parameter/s);
      } finally {
        await rig.stop();
      }
    });
  });

  describe("ElasticSearchAggsSource flattens aggregations to events", () => {
    it("terms with sub-terms and metrics: one event per leaf bucket", async () => {
      const requestBody: RequestBody = {
        aggs: { kind: { terms: { field: "kind" }, aggs: { total: { sum: { field: "n" } }, color: { terms: { field: "color", size: 10 }, aggs: { top: { max: { field: "n" } } } } } } },
      };
      const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchAggsSource(app, pipeline, "ES", { requestBody, config: { index } }));
      try {
        await rig.cycle();
        const expected: Doc[] = [];
        for (const kind of ["even", "odd"]) {
          const ns = Array.from({ length: COUNT }, (_, n) => n).filter((n) => (n % 2 === 0) === (kind === "even"));
          const total = ns.reduce((a, b) => a + b, 0);
          for (const [c, color] of ["red", "green", "blue", "cyan", "pink", "gray", "teal"].entries()) {
            const mine = ns.filter((n) => n % 7 === c);
            expected.push({ kind, total, color, doc_count: mine.length, top: Math.max(...mine) });
          }
        }
        const byKey = (a: Doc, b: Doc) => `${a.kind}/${a.color}`.localeCompare(`${b.kind}/${b.color}`);
        expect(rig.sink.events.toSorted(byKey)).toEqual(expected.toSorted(byKey));
      } finally {
        await rig.stop();
      }
    });

    it("date_histogram with a stats metric, and a top-level metric", async () => {
      const requestBody: RequestBody = {
        aggs: { day: { date_histogram: { field: "@timestamp", calendar_interval: "day" }, aggs: { n: { stats: { field: "n" } } } }, everything: { value_count: { field: "n" } } },
      };
      const rig = await sourceRig(url, (app, pipeline) => new ElasticSearchAggsSource(app, pipeline, "ES", { requestBody, config: { index } }));
      try {
        await rig.cycle();
        const days = rig.sink.events.filter((e) => "day" in e);
        expect(days).toHaveLength(10);
        expect(days[0]).toEqual({ day: START, doc_count: COUNT / 10, n: { count: COUNT / 10, min: 0, max: COUNT - 10, avg: (COUNT - 10) / 2, sum: ((COUNT - 10) / 2) * (COUNT / 10) } });
        expect(rig.sink.events.filter((e) => "everything" in e)).toEqual([{ everything: COUNT }]);
      } finally {
        await rig.stop();
      }
    });

    it("composite: paged with after_key until the last bucket", async () => {
      const requestBody: RequestBody = {
        aggs: { pairs: { composite: { size: 3, sources: [{ kind: { terms: { field: "kind" } } }, { color: { terms: { field: "color" } } }] }, aggs: { low: { min: { field: "n" } } } } },
      };
      let searches = 0;
      const rig = await sourceRig(url, (app, pipeline) => {
        const source = new ElasticSearchAggsSource(app, pipeline, "ES", { requestBody, config: { index } });
        const es = source.connection.acquire();
        const search = es.search.bind(es);
        es.search = ((...args: Parameters<typeof search>) => {
          searches++;
          return search(...args);
        }) as typeof es.search;
        return source;
      });
      try {
        await rig.cycle();
        expect(rig.sink.events).toHaveLength(14);
        expect(searches).toBeGreaterThanOrEqual(5); // 14 buckets, 3 a page
        const keys = rig.sink.events.map((e) => `${e.kind}/${e.color}`);
        expect(new Set(keys).size).toBe(14);
        expect(rig.sink.events.find((e) => e.kind === "odd" && e.color === "green")).toEqual({ kind: "odd", color: "green", doc_count: expect.any(Number), low: 1 });
      } finally {
        await rig.stop();
      }
    });
  });
});

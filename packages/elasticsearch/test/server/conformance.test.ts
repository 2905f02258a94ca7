// oxlint-disable no-underscore-dangle -- Elasticsearch's _id
// The conformance kit of @pump/core/testing against ElasticSearchSink and the rig's Elasticsearch: the
// contract every sink keeps (settle after the node stored, retry through an outage, throttle, flush on
// stop, report refused documents), each case on an index of its own, the outage played by a TCP proxy.
import { sinkConformance, TcpProxy } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, it } from "vitest";
import { ElasticSearchConnection } from "../../src/connection.js";
import { ElasticSearchSink } from "../../src/sink.js";
import { deleteIndices, testClient, uniqueIndex } from "../helpers.js";

describeWithServer("ElasticSearchSink keeps the sink contract (conformance kit)", "ES_URL", (serverUrl) => {
  const client = testClient(serverUrl);
  afterAll(() => client.close());

  const cases = sinkConformance<Record<string, unknown>>({
    name: "ElasticSearchSink",
    // bulks of ~20 documents, 2 queued and 1 in flight: the sink holds well under 300
    capacity: 300,
    setUp: async () => {
      const index = uniqueIndex("conformance");
      await client.indices.create({ index, mappings: { dynamic: "strict", properties: { n: { type: "integer" } } } });
      const { proxy, url } = await TcpProxy.to(serverUrl, 9200);
      await proxy.open();
      return {
        create: (app, pipeline) => {
          const config = { url, max_bulk_age: 0.1, bulk_out_max_size: 1500, output_queue_max_size: 2, loader_per_url: 1, retry_backoff: 0.1, retry_backoff_max: 0.5, timeout: 5 };
          const connection = new ElasticSearchConnection(app, "ESConnection", { config });
          app.pumpService.addConnection(connection);
          return new ElasticSearchSink(app, pipeline, connection, { config: { index, data_feeder: "index" } });
        },
        event: (i) => ({ _id: String(i), n: i }),
        // not an integer where the mapping says integer: refused for good
        rejected: (i) => ({ _id: String(i), n: "not a number" }),
        stored: async () => {
          await client.indices.refresh({ index });
          return (await client.count({ index })).count;
        },
        outage: () => proxy.outage(),
        tearDown: async () => {
          await proxy.close();
          await deleteIndices(client, index);
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});

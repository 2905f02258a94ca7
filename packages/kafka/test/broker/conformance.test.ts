// The conformance kit of @pump/core/testing against KafkaSource and KafkaSink on the rig's broker: the
// contracts every source and sink keep, each case on a topic (and group) of its own. The broker tells
// clients its own address, so a proxy cannot simply stand in front of it: the connection under test
// opens every socket to the proxy instead (kafkajs's socketFactory), which then cuts or refuses them.
import { connect } from "node:net";
import { sinkConformance, sourceConformance, TcpProxy } from "@pump/core/testing";
import type { PumpApplication } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, it } from "vitest";
import { KafkaConnection, KafkajsClient, KafkaSink, KafkaSource, type KafkaClient, type KafkaClientSettings } from "../../src/index.js";
import { produce, testKafka, unique, withAdmin } from "../helpers.js";

/** A connection whose client reaches every broker through one local port (one broker in the rig). */
class ProxiedConnection extends KafkaConnection {
  proxyPort = 0;

  protected override createClient(settings: KafkaClientSettings): KafkaClient {
    return new KafkajsClient(settings, { socketFactory: ({ onConnect }) => connect({ host: "127.0.0.1", port: this.proxyPort }, onConnect) });
  }
}

describeWithServer("KafkaSource and KafkaSink keep the source and sink contracts (conformance kit)", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);
  const [host = "127.0.0.1", port = "9092"] = brokers.split(",")[0]!.split(":");
  const proxies = new Set<TcpProxy>();
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
  });

  /** A topic of the case's own, a proxy in front of the broker, and a connection factory through it. */
  async function place(prefix: string, topicConfig?: Record<string, string>) {
    const topic = unique(prefix);
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: Object.entries(topicConfig ?? {}).map(([name, value]) => ({ name, value })) }],
        waitForLeaders: true,
      }),
    );
    const { proxy } = await TcpProxy.to(`tcp://${host}:${port}`, 9092);
    proxies.add(proxy);
    await proxy.open();
    const connectVia = (app: PumpApplication): KafkaConnection => {
      const connection = new ProxiedConnection(app, "KafkaConnection", {
        config: { bootstrap_servers: brokers, socket_connection_setup_timeout_ms: 1000, request_timeout_ms: 5000, retries: 2, retry_backoff_ms: 100, retry_backoff_max_ms: 500 },
      });
      connection.proxyPort = proxy.port;
      app.pumpService.addConnection(connection);
      return connection;
    };
    const tearDown = async (): Promise<void> => {
      await proxy.close();
      proxies.delete(proxy);
      await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [topic] })).catch(() => {});
    };
    return { topic, proxy, connectVia, tearDown };
  }

  const sources = sourceConformance<Buffer | null>({
    name: "KafkaSource",
    setUp: async () => {
      const { topic, proxy, connectVia, tearDown } = await place("conformance-in");
      const group = unique("conformance-group");
      return {
        create: (app, pipeline) =>
          new KafkaSource(app, pipeline, connectVia(app), {
            config: { topic, group_id: group, session_timeout_ms: 6000, heartbeat_interval_ms: 500, fetch_wait_max_ms: 100, sleep_on_error: 0.2, drain_timeout: 2 },
          }),
        produce: (from, count) => produce(kafka, topic, Array.from({ length: count }, (_, k) => ({ value: String(from + k) }))),
        idOf: (event) => Number(event?.toString()),
        drop: () => {
          proxy.cut();
          return Promise.resolve();
        },
        tearDown,
      };
    },
  });
  for (const c of sources) it(c.name, c.run);

  const sinks = sinkConformance<string>({
    name: "KafkaSink",
    // watermark.high below: 200 events, and a batch more
    capacity: 300,
    setUp: async () => {
      // the topic takes record batches up to 2 KiB: a bigger record is the broker's to refuse (MESSAGE_TOO_LARGE)
      const { topic, proxy, connectVia, tearDown } = await place("conformance-out", { "max.message.bytes": "2048" });
      return {
        create: (app, pipeline) =>
          new KafkaSink(app, pipeline, connectVia(app), {
            config: { topic, "watermark.high": 200, "watermark.low": 100, "batch.num.messages": 10, "request.timeout.ms": 5000, "retry.backoff.max.ms": 200 },
          }),
        event: (i) => String(i),
        rejected: (i) => `${i}${" ".repeat(4096)}`,
        stored: async () => withAdmin(kafka, async (admin) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)),
        outage: () => proxy.outage(),
        tearDown,
      };
    },
  });
  for (const c of sinks) it(c.name, c.run);
});

// The conformance kit of @pump/core/testing against AMQPSource and AMQPSink on the rig's RabbitMQ: the
// contracts every source and sink keep, each case on queues of its own, connections cut by a TCP proxy.
import { sinkConformance, sourceConformance, TcpProxy } from "@pump/core/testing";
import type { PumpApplication } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, it } from "vitest";
import { AMQPConnection, AMQPSink, AMQPSource } from "../../src/index.js";
import { Broker, unique } from "../helpers.js";

describeWithServer("AMQPSource and AMQPSink keep the source and sink contracts (conformance kit)", "AMQP_URL", (serverUrl) => {
  const broker = new Broker(serverUrl);
  afterAll(() => broker.close());

  /** A queue of the case's own, a proxy in front of the broker, and a connection factory through it. */
  async function place(prefix: string) {
    const queue = unique(prefix);
    await broker.queue(queue);
    const { proxy, url } = await TcpProxy.to(serverUrl, 5672);
    await proxy.open();
    const connect = (app: PumpApplication): AMQPConnection => {
      const connection = new AMQPConnection(app, "AMQPConnection", { config: { url, reconnect_delay: 0.1, reconnect_delay_max: 0.5, connect_timeout: 2 } });
      app.pumpService.addConnection(connection);
      return connection;
    };
    const tearDown = async (): Promise<void> => {
      await proxy.close();
      await broker.delete(queue);
    };
    return { queue, proxy, connect, tearDown };
  }

  const sources = sourceConformance<Buffer>({
    name: "AMQPSource",
    setUp: async () => {
      const { queue, proxy, connect, tearDown } = await place("conformance-in");
      return {
        create: (app, pipeline) => new AMQPSource(app, pipeline, connect(app), { config: { queue, prefetch_count: 50, retry_delay: 0.1, drain_timeout: 0.5 } }),
        produce: (from, count) => broker.publish(queue, Array.from({ length: count }, (_, k) => String(from + k))),
        idOf: (event) => Number(event.toString()),
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
    name: "AMQPSink",
    // watermark.high below: 200 messages, and a batch more
    capacity: 300,
    notApplicable: { refusal: "RabbitMQ takes any body into a queue that exists" },
    setUp: async () => {
      const { queue, proxy, connect, tearDown } = await place("conformance-out");
      return {
        create: (app, pipeline) =>
          new AMQPSink(app, pipeline, connect(app), { config: { exchange: "", routing_key: queue, max_unconfirmed: 50, "watermark.high": 200, "watermark.low": 100 } }),
        event: (i) => String(i),
        stored: () => broker.count(queue),
        outage: () => proxy.outage(),
        tearDown,
      };
    },
  });
  for (const c of sinks) it(c.name, c.run);
});

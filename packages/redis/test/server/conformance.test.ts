// The conformance kit of @pump/core/testing against RedisListSource and RedisListSink on the rig's Redis:
// the contracts every source and sink keep, each case on lists of its own, connections cut by a TCP proxy.
import type { Context, PumpApplication } from "@pump/core";
import { sinkConformance, sourceConformance, TcpProxy } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, it } from "vitest";
import { RedisConnection, RedisListSink, RedisListSource } from "../../src/index.js";
import { TestRedis, unique } from "../helpers.js";

/** Sends the events the kit wants refused to a key that holds a string: Redis answers WRONGTYPE. */
class RoutingSink extends RedisListSink {
  notAList = "";

  override getList(context: Context, event: unknown): string {
    return typeof event === "string" && event.startsWith("refused") ? this.notAList : super.getList(context, event);
  }
}

describeWithServer("RedisListSource and RedisListSink keep the source and sink contracts (conformance kit)", "REDIS_URL", (serverUrl) => {
  const redis = new TestRedis(serverUrl);
  afterAll(() => redis.close());

  /** A list of the case's own, a proxy in front of Redis, and a connection factory through it. */
  async function place(prefix: string) {
    const list = unique(prefix);
    const { proxy, url } = await TcpProxy.to(serverUrl, 6379);
    await proxy.open();
    const connect = (app: PumpApplication): RedisConnection => {
      const connection = new RedisConnection(app, "RedisConnection", { config: { url, reconnect_delay: 0.05, reconnect_delay_max: 0.2, connect_timeout: 2 } });
      app.pumpService.addConnection(connection);
      return connection;
    };
    const tearDown = async (): Promise<void> => {
      await proxy.close();
      await redis.delete(list, `${list}:processing`);
    };
    return { list, proxy, connect, tearDown };
  }

  const sources = sourceConformance<string>({
    name: "RedisListSource",
    setUp: async () => {
      const { list, proxy, connect, tearDown } = await place("conformance-in");
      return {
        create: (app, pipeline) => new RedisListSource(app, pipeline, connect(app), { config: { list, batch_size: 20, block_timeout: 0.2, retry_delay: 0.05 } }),
        produce: (from, count) => redis.push(list, Array.from({ length: count }, (_, k) => String(from + k))),
        idOf: (event) => Number(event),
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
    name: "RedisListSink",
    // watermark.high below: 200 events, and a batch more
    capacity: 300,
    setUp: async () => {
      const { list, proxy, connect, tearDown } = await place("conformance-out");
      const notAList = `${list}:string`;
      await redis.set(notAList, "a string, not a list");
      return {
        create: (app, pipeline) => {
          const sink = new RoutingSink(app, pipeline, connect(app), { config: { list, batch_size: 50, "watermark.high": 200, "watermark.low": 100, retry_delay: 0.05, retry_delay_max: 0.2 } });
          sink.notAList = notAList;
          return sink;
        },
        event: (i) => String(i),
        rejected: (i) => `refused ${i}`,
        stored: () => redis.length(list),
        outage: () => proxy.outage(),
        tearDown: async () => {
          await tearDown();
          await redis.delete(notAList);
        },
      };
    },
  });
  for (const c of sinks) it(c.name, c.run);
});

import { Pipeline, type Context } from "@pump/core";
import { afterEach, describe, expect, it } from "vitest";
import { KAFKA_SOURCE, KafkaClientError, KafkaSink } from "../../src/index.js";
import { FakeKafkaConnection, type FakeProducer } from "../fake-client.js";
import { createApp, UnitTestSource, settlements, until } from "../helpers.js";

class SoftPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

interface Rig {
  pipeline: Pipeline;
  source: UnitTestSource;
  sink: KafkaSink;
  producer: () => FakeProducer;
}

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

async function rig(config: Record<string, string | number | boolean>, soft = false): Promise<Rig> {
  const app = createApp();
  const connection = app.pumpService.addConnection(new FakeKafkaConnection(app));
  const pipeline = soft ? new SoftPipeline(app, "P") : new Pipeline(app, "P");
  const source = new UnitTestSource(app, pipeline);
  const sink = new KafkaSink(app, pipeline, "KafkaConnection", { config: { topic: "out", "linger.ms": 0, ...config } });
  pipeline.build(source, sink);
  await pipeline.start();
  running.push(pipeline);
  return { pipeline, source, sink, producer: () => connection.fake.producers.at(-1)! };
}

const tooLarge = (): KafkaClientError => new KafkaClientError("Cannot send to Kafka: MESSAGE_TOO_LARGE", { retriable: false, type: "MESSAGE_TOO_LARGE" });
const transient = (): KafkaClientError => new KafkaClientError("Cannot send to Kafka: connect ECONNREFUSED", { retriable: true });

function gate(): { promise: Promise<void>; open: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

describe("KafkaSink (client stand-in)", () => {
  it("writes to its topic, or to context.kafka_topic when a processor set it; key, headers and values encoded", async () => {
    const { source, producer } = await rig({});
    const fromSource = { topic: "in", partition: 0, offset: 1 };
    await source.feed(
      [Buffer.from("raw"), "text", { n: 1 }, "routed", "echo"],
      [
        { kafka_key: Buffer.from("k1"), kafka_headers: { h: "v" } },
        { kafka_key: "k2" },
        {},
        { kafka_topic: "elsewhere" },
        { kafka_topic: "in", [KAFKA_SOURCE]: fromSource } as Context, // the source's own topic: not a route
      ],
    );
    await until(() => producer().records.length === 5, "the records");
    const records = producer().records;
    expect(records.map((r) => r.topic)).toEqual(["out", "out", "out", "elsewhere", "out"]);
    expect(records.map((r) => r.value?.toString())).toEqual(["raw", "text", '{"n":1}', "routed", "echo"]);
    expect(records[0]!.key).toEqual(Buffer.from("k1"));
    expect(records[0]!.headers).toEqual({ h: Buffer.from("v") });
    expect(records[1]!.key).toEqual(Buffer.from("k2"));
    expect(records[2]!.key).toBeNull();
  });

  it("confirms each delivery only when the send was acknowledged", async () => {
    const { source, producer } = await rig({});
    const held = gate();
    producer().gate = held.promise;
    const s = settlements();
    await source.feed(["a", "b"], [s.context(1), s.context(2)]);
    await until(() => producer().attempts === 1, "the send");
    expect(s.settled.size).toBe(0);
    held.open();
    await until(() => s.settled.size === 2, "the settlements");
    expect([...s.settled.values()]).toEqual(["done", "done"]);
  });

  it("sends in batches of at most batch.num.messages, in order", async () => {
    const { source, producer } = await rig({ "batch.num.messages": 3, "linger.ms": 50 });
    await source.feed(["1", "2", "3", "4", "5", "6", "7"]);
    await until(() => producer().records.length === 7, "the records");
    expect(producer().sent.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(producer().records.map((r) => r.value!.toString())).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
  });

  it("throttles the pipeline at watermark.high events until it is back under watermark.low", async () => {
    const { pipeline, source, sink, producer } = await rig({ "watermark.high": 5, "watermark.low": 2, "batch.num.messages": 2 });
    const held = gate();
    producer().gate = held.promise;
    await source.feed(["1", "2", "3", "4", "5"]);
    expect(pipeline.getThrottles().has(sink)).toBe(true);
    expect(pipeline.isReady()).toBe(false);
    held.open();
    await until(() => !pipeline.getThrottles().has(sink), "the throttle to be released");
    await until(() => producer().records.length === 5, "the records");
    expect(sink.stats.throttled).toBe(1);
  });

  it("throttles on bytes too (watermark.high_bytes)", async () => {
    const { pipeline, source, sink, producer } = await rig({ "watermark.high_bytes": 1000, "watermark.low_bytes": 10 });
    const held = gate();
    producer().gate = held.promise;
    await source.feed(["x".repeat(600), "y".repeat(600)]);
    expect(pipeline.getThrottles().has(sink)).toBe(true);
    expect(sink.bufferedBytes).toBe(1200);
    held.open();
    await until(() => pipeline.isReady(), "the pipeline to be ready again");
  });

  it("retries transient failures with backoff, then confirms once", async () => {
    const { source, sink, producer } = await rig({ "retry.backoff.ms": 1, "retry.backoff.max.ms": 4 });
    producer().failures.push(transient(), transient(), transient());
    const s = settlements();
    await source.feed(["a"], [s.context(1)]);
    await until(() => s.settled.size === 1, "the settlement");
    expect(s.settled.get(1)).toBe("done");
    expect(producer().attempts).toBe(4);
    expect(sink.stats).toMatchObject({ delivered: 1, retries: 3, failed: 0 });
  });

  it("gives up on a permanent error at once: a hard pipeline error, the deliveries fail", async () => {
    const { pipeline, source, sink, producer } = await rig({});
    producer().failures.push(new KafkaClientError("Cannot send to Kafka: TOPIC_AUTHORIZATION_FAILED", { retriable: false, type: "TOPIC_AUTHORIZATION_FAILED" }));
    const s = settlements();
    await source.feed(["a", "b"], [s.context(1), s.context(2)]);
    await until(() => s.settled.size === 2, "the settlements");
    expect(producer().attempts).toBe(1);
    expect(pipeline.isError()).toBe(true);
    expect(String(pipeline.error?.error)).toMatch(/gave up sending 2 event\(s\) to Kafka/);
    expect([...s.settled.values()].every((e) => e instanceof Error && (e as { code?: string }).code === "PUMP_KAFKA_DELIVERY")).toBe(true);
    expect(sink.stats.failed).toBe(2);
  });

  it("a request refused for one record is halved until that record stands alone: only it fails", async () => {
    const { pipeline, source, sink, producer } = await rig({});
    // [a b c d] refused; [a b] taken; [c d] refused; [c] refused alone; [d] taken
    producer().failures.push(tooLarge(), undefined, tooLarge(), tooLarge());
    const s = settlements();
    await source.feed(["a", "b", "c", "d"], [s.context(1), s.context(2), s.context(3), s.context(4)]);
    await until(() => s.settled.size === 4, "the settlements");
    expect(s.settled.get(1)).toBe("done");
    expect(s.settled.get(2)).toBe("done");
    expect(s.settled.get(3)).toBeInstanceOf(Error);
    expect(s.settled.get(4)).toBe("done");
    expect(producer().sent.map((records) => records.map((r) => String(r.value)))).toEqual([["a", "b"], ["d"]]);
    expect(pipeline.isError()).toBe(true);
    expect(sink.stats).toMatchObject({ delivered: 3, rejected: 1, isolated: 1, failed: 0 });
  });

  it("under a soft error policy, what it gave up on is dropped and confirmed; the pipeline goes on", async () => {
    const { pipeline, source, producer } = await rig({}, true);
    producer().failures.push(new KafkaClientError("Cannot send to Kafka: TOPIC_AUTHORIZATION_FAILED", { retriable: false }));
    const s = settlements();
    await source.feed(["a", "b"], [s.context(1), s.context(2)]);
    await until(() => s.settled.size === 2, "the settlements");
    expect([...s.settled.values()]).toEqual(["done", "done"]);
    expect(pipeline.isError()).toBe(false);
    expect(pipeline.metrics.warning).toBe(2);
  });

  it("gives up on transient failures after delivery.timeout.ms", async () => {
    const { pipeline, source, producer } = await rig({ "delivery.timeout.ms": 30, "retry.backoff.ms": 5 });
    for (let i = 0; i < 1000; i++) producer().failures.push(new KafkaClientError("Cannot send to Kafka: broker down", { retriable: true }));
    const s = settlements();
    await source.feed(["a"], [s.context(1)]);
    await until(() => s.settled.size === 1, "the settlement");
    expect(s.settled.get(1)).toBeInstanceOf(Error);
    expect(producer().attempts).toBeGreaterThan(1);
    expect(pipeline.isError()).toBe(true);
  });

  it("an event it cannot write goes through the pipeline's error handling (too large, no topic)", async () => {
    const { pipeline, source, producer } = await rig({ "message.max.bytes": 10 }, true);
    const s = settlements();
    await source.feed(["small", "far too large for this sink"], [s.context(1), s.context(2)]);
    await until(() => s.settled.size === 2, "the settlements");
    expect(producer().records.map((r) => r.value!.toString())).toEqual(["small"]);
    expect(pipeline.metrics.warning).toBe(1);
  });

  it("stop() sends what is still buffered", async () => {
    const { pipeline, source, producer } = await rig({ "linger.ms": 600_000 });
    const s = settlements();
    await source.feed(["a", "b", "c"], [s.context(1), s.context(2), s.context(3)]);
    expect(producer().records).toEqual([]);
    running.splice(running.indexOf(pipeline), 1);
    await pipeline.stop();
    expect(producer().records.map((r) => r.value!.toString())).toEqual(["a", "b", "c"]);
    expect([...s.settled.values()]).toEqual(["done", "done", "done"]);
    expect(producer().disconnected).toBe(true);
  });

  it("checks its configuration when built", () => {
    const app = createApp();
    app.pumpService.addConnection(new FakeKafkaConnection(app));
    const pipeline = new Pipeline(app, "P");
    expect(() => new KafkaSink(app, pipeline, "KafkaConnection", { config: { acks: "some" } })).toThrow(/acks/);
    expect(() => new KafkaSink(app, pipeline, "KafkaConnection", { config: { encoding: "klingon" } })).toThrow(/encoding/);
    expect(() => new KafkaSink(app, pipeline, "KafkaConnection", { config: { "enable.idempotence": true, acks: 1 } })).toThrow(/acks=all/);
    expect(() => new KafkaSink(app, pipeline, "KafkaConnection", { config: { linger_ms: "soon" } })).toThrow(/linger_ms/);
  });
});

import { deliveryOf, Pipeline, Sink, type Context } from "@pump/core";
import { afterEach, describe, expect, it } from "vitest";
import { KAFKA_SOURCE, KafkaClientError, KafkaSource, type KafkaContext } from "../../src/index.js";
import { FakeKafkaConnection, type FakeConsumer } from "../fake-client.js";
import { createApp, until } from "../helpers.js";

/** Holds what it takes; the test confirms or fails deliveries by hand (as a sink waiting for a server). */
class HandSink extends Sink<Buffer | null> {
  override readonly confirmsDelivery = true;
  readonly held: { context: Context; event: Buffer | null }[] = [];
  #open: Context[] = [];
  batches = 0;
  #lastBatchMark = -1;

  process(context: Context, event: Buffer | null): void {
    const mark = this.pipeline.metrics.in;
    if (mark !== this.#lastBatchMark) {
      this.batches++;
      this.#lastBatchMark = mark;
    }
    this.held.push({ context, event });
    this.#open.push(context);
  }

  /** Settles the open deliveries of these offsets. */
  settle(offsets: number[], error?: Error): void {
    const settling = this.#open.filter((context) => offsets.includes(context.kafka_offset as number));
    this.#open = this.#open.filter((context) => !settling.includes(context));
    for (const context of settling) {
      const delivery = deliveryOf(context);
      if (error === undefined) delivery?.done();
      else delivery?.fail(error);
    }
  }
}

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

async function rig(config: Record<string, string | number | boolean> = {}) {
  const app = createApp();
  const connection = app.pumpService.addConnection(new FakeKafkaConnection(app));
  const pipeline = new Pipeline(app, "P");
  const source = new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: "in", group_id: "g", sleep_on_error: 0.01, drain_timeout: 0.1, ...config } });
  const sink = new HandSink(app, pipeline);
  pipeline.build(source, sink);
  await pipeline.start();
  running.push(pipeline);
  await until(() => connection.fake.consumers.at(-1)?.handlers !== undefined, "the consumer to start");
  const consumer = (): FakeConsumer => connection.fake.consumers.at(-1)!;
  consumer().handlers!.onAssigned([{ topic: "in", partition: 0 }, { topic: "in", partition: 1 }]);
  return { app, connection, pipeline, source, sink, consumer };
}

describe("KafkaSource (client stand-in)", () => {
  it("subscribes with the group and hands each record's value over, with its Kafka context", async () => {
    const { sink, consumer, connection } = await rig({ topic: "in other ^re-.*" });
    expect(consumer().subscription).toEqual({ topics: ["in", "other", /^re-.*/], fromBeginning: true });
    expect(connection.fake.consumerOptions[0]).toMatchObject({ groupId: "g", readCommitted: true });
    await consumer().deliver("in", 0, [5, 6]);
    expect(sink.held.map((h) => h.event!.toString())).toEqual(["v5", "v6"]);
    const context = sink.held[0]!.context;
    expect(context).toMatchObject({ kafka_topic: "in", kafka_partition: 0, kafka_offset: 5, kafka_key: Buffer.from("k5"), kafka_headers: { h: Buffer.from("x") }, kafka_timestamp: 1_700_000_000_005 });
    expect((context as KafkaContext)[KAFKA_SOURCE]).toEqual({ topic: "in", partition: 0, offset: 5 });
  });

  it("hands a fetched batch over in chunks of buffer_size, one await each", async () => {
    const { sink, consumer } = await rig({ buffer_size: 4 });
    await consumer().deliver("in", 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sink.held).toHaveLength(10);
    expect(sink.batches).toBe(3);
  });

  it("commits only what the pipeline settled, in order per partition (offset + 1)", async () => {
    const { sink, consumer } = await rig();
    await consumer().deliver("in", 0, [10, 11, 12]);
    await consumer().deliver("in", 1, [3]);
    sink.settle([11]);
    expect(consumer().committed("in", 0)).toBeUndefined();
    sink.settle([10]);
    await until(() => consumer().committed("in", 0) === 12, "the commit of 10 and 11");
    sink.settle([3, 12]);
    await until(() => consumer().committed("in", 0) === 13 && consumer().committed("in", 1) === 4, "the commits");
  });

  it("does not commit past a failed delivery: pauses the partition, then reads it again from the failed record", async () => {
    const { sink, consumer, source } = await rig();
    await consumer().deliver("in", 0, [0, 1, 2, 3]);
    sink.settle([0]);
    sink.settle([2], new Error("sink gave up"));
    expect(consumer().paused.has("in:0")).toBe(true);
    sink.settle([3]);
    await until(() => consumer().committed("in", 0) === 1, "the commit of offset 0");
    expect(consumer().seeks).toEqual([]);
    sink.settle([1]); // the last one pending: commit up to the failure and read again from it
    await until(() => consumer().seeks.length === 1, "the rewind");
    expect(consumer().seeks[0]).toEqual({ tp: { topic: "in", partition: 0 }, offset: 2 });
    expect(consumer().paused.has("in:0")).toBe(false);
    expect(consumer().committed("in", 0)).toBe(2);
    await consumer().deliver("in", 0, [2, 3]); // the records again
    sink.settle([2, 3]);
    await until(() => consumer().committed("in", 0) === 4, "the commit after the redelivery");
    expect(source.stats).toMatchObject({ handedOver: 6, failed: 1, rewinds: 1 });
  });

  it("ignores a batch fetched before the rewind (stale) and records it already handed over", async () => {
    const { sink, consumer } = await rig();
    await consumer().deliver("in", 0, [0, 1]);
    await consumer().deliver("in", 0, [0, 1, 2]);
    expect(sink.held.map((h) => h.context.kafka_offset)).toEqual([0, 1, 2]);
    consumer().stale.add("in:1");
    await consumer().deliver("in", 1, [7]);
    expect(sink.held).toHaveLength(3);
  });

  it("after a rebalance, records handed over before it no longer commit (they are read again)", async () => {
    const { sink, consumer, source } = await rig();
    await consumer().deliver("in", 0, [0, 1]);
    consumer().handlers!.onAssigned([{ topic: "in", partition: 0 }]);
    sink.settle([0, 1]);
    expect(consumer().commits).toEqual([]);
    expect(source.stats.orphaned).toBe(2);
    await consumer().deliver("in", 0, [0, 1]);
    sink.settle([0, 1]);
    await until(() => consumer().committed("in", 0) === 2, "the commit of the records read again");
    expect(source.assignment).toEqual([{ topic: "in", partition: 0 }]);
  });

  it("when a heartbeat says the group rebalances, hands nothing more over, lets what it handed over settle and commits it", async () => {
    const { sink, consumer } = await rig();
    await consumer().deliver("in", 0, [0, 1]);
    consumer().rebalancing = true;
    const next = consumer().deliver("in", 1, [5, 6]); // the rest of the same fetch
    setTimeout(() => sink.settle([0, 1]), 30);
    await next;
    expect(sink.held.map((h) => h.context.kafka_offset)).toEqual([0, 1]);
    expect(consumer().committed("in", 0)).toBe(2); // committed before the member rejoins
    await consumer().deliver("in", 1, [5, 6]);
    expect(sink.held).toHaveLength(2);
    consumer().rebalancing = false;
    consumer().handlers!.onAssigned([{ topic: "in", partition: 1 }]); // rejoined
    await consumer().deliver("in", 1, [5, 6]);
    expect(sink.held).toHaveLength(4);
  });

  it("goes on after a heartbeat that failed for another reason (the coordinator moved), or once heartbeats are accepted again", async () => {
    const { sink, consumer } = await rig();
    consumer().heartbeatFailure = new KafkaClientError("Heartbeat failed: This is not the correct coordinator", { retriable: true, type: "NOT_COORDINATOR_FOR_GROUP" });
    await consumer().deliver("in", 0, [0]);
    expect(sink.held).toHaveLength(1);
    consumer().heartbeatFailure = undefined;
    consumer().rebalancing = true;
    await consumer().deliver("in", 0, [1]);
    expect(sink.held).toHaveLength(1); // held back while the group rebalances
    consumer().rebalancing = false; // the member did not have to rejoin after all: heartbeats pass again
    await consumer().deliver("in", 0, [1]);
    expect(sink.held).toHaveLength(2);
  });

  it("waits for the broker at start: a consumer that cannot start is created again", async () => {
    const app = createApp();
    const connection = app.pumpService.addConnection(new FakeKafkaConnection(app));
    connection.fake.consumerStartFailures = 2;
    const pipeline = new Pipeline(app, "P");
    pipeline.build(new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: "in", sleep_on_error: 0.01 } }), new HandSink(app, pipeline));
    await pipeline.start();
    running.push(pipeline);
    await until(() => connection.fake.consumers.some((c) => c.running), "a consumer that started");
    expect(connection.fake.consumers.length).toBeGreaterThanOrEqual(2);
  });

  it("heartbeats while the pipeline is not ready, and hands the batch over once it is", async () => {
    const { pipeline, sink, consumer } = await rig({ heartbeat_interval_ms: 5 });
    const blocker = { id: "blocker" };
    pipeline.throttle(blocker, true);
    const delivered = consumer().deliver("in", 0, [0]);
    await until(() => consumer().heartbeats >= 3, "heartbeats");
    expect(sink.held).toHaveLength(0);
    pipeline.throttle(blocker, false);
    await delivered;
    expect(sink.held).toHaveLength(1);
  });

  it("on stop, drains: pauses, waits for what it handed over to settle, commits it", async () => {
    const { pipeline, sink, consumer } = await rig();
    await consumer().deliver("in", 0, [0, 1]);
    setTimeout(() => sink.settle([0, 1]), 50);
    running.splice(running.indexOf(pipeline), 1);
    await pipeline.stop();
    expect(consumer().committed("in", 0)).toBe(2);
    expect(consumer().paused.has("in:0")).toBe(true);
    expect(consumer().running).toBe(false);
  });
});

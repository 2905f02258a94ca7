import { describe, expect, it, vi } from "vitest";
import { ConfigError, DELIVERY, Delivery, Pipeline, Processor, type Context, type PumpApplication } from "../../src/index.js";
import {
  Aggregator,
  IteratorGenerator,
  ListEventAggregationStrategy,
  StringAggregationStrategy,
  type AggregatorOptions,
} from "../../src/common/index.js";
import { BufferSink, UnitTestSink, ListSource, createApp, settleLog } from "../helpers.js";
import { harness } from "./harness.js";

const TEN = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"].map((message) => ({ message }));

/** An app whose clock the test sets. */
function clockedApp(start = 1000): { app: PumpApplication; clock: { now: number } } {
  const app = createApp();
  const clock = { now: start };
  vi.spyOn(app, "time").mockImplementation(() => clock.now);
  return { app, clock };
}

function tick(app: PumpApplication): void {
  app.pubsub.publish("Application.tick!", app);
}

/** ListSource → Aggregator → sink (a BufferSink when asked), started. */
async function aggregating<In, Out>(
  options: AggregatorOptions<In, Out> & { buffered?: boolean; app?: PumpApplication; between?: (app: PumpApplication, p: Pipeline) => Processor<Out, Out> } = {},
) {
  const app = options.app ?? createApp();
  const p = new Pipeline(app, "P");
  const aggregator = new Aggregator<In, Out>(app, p, options);
  const sink = options.buffered === true ? new BufferSink<Out>(app, p) : new UnitTestSink<Out>(app, p);
  p.setSource(new ListSource(app, p));
  p.appendProcessor(aggregator);
  if (options.between !== undefined) p.appendProcessor(options.between(app, p));
  p.appendProcessor(sink);
  await p.start();
  // Each test reads the kind of sink it asked for.
  return { app, p, aggregator, sink: sink as UnitTestSink<Out>, buffer: sink as BufferSink<Out> };
}

describe("Aggregator (BSPump's vectors)", () => {
  it("aggregates by completion_size into lists of [context, event], sent with an empty context", async () => {
    const h = await harness((app, p) => [new Aggregator(app, p, { config: { completion_size: "5" } })]);
    await h.send(TEN);
    expect(h.output).toEqual([TEN.slice(0, 5).map((e) => [{}, e]), TEN.slice(5).map((e) => [{}, e])]);
    expect(h.sink.contexts).toEqual([{}, {}]);
    expect(Object.getOwnPropertySymbols(h.sink.contexts[0]!)).toEqual([]);
  });

  it("flushes what is left when the pipeline stops", async () => {
    const h = await harness((app, p) => [new Aggregator(app, p, { config: { completion_size: "2" } })]);
    await h.send(TEN.slice(0, 3));
    expect(h.output).toEqual([[[{}, TEN[0]], [{}, TEN[1]]]]);
    await h.pipeline.stop();
    expect(h.output).toEqual([[[{}, TEN[0]], [{}, TEN[1]]], [[{}, TEN[2]]]]);
  });

  it("ListEventAggregationStrategy aggregates the events only", async () => {
    const h = await harness((app, p) => [new Aggregator(app, p, { aggregationStrategy: new ListEventAggregationStrategy(), config: { completion_size: "2" } })]);
    await h.send(TEN.slice(0, 4));
    expect(h.output).toEqual([TEN.slice(0, 2), TEN.slice(2, 4)]);
  });

  it("StringAggregationStrategy joins the events with its delimiter", async () => {
    const h = await harness((app, p) => [new Aggregator(app, p, { aggregationStrategy: new StringAggregationStrategy(";"), config: { completion_size: "3" } })]);
    await h.send(["one", "two", "three"]);
    expect(h.output).toEqual(["one;two;three"]);
  });
});

describe("Aggregator strategies", () => {
  it("StringAggregationStrategy: newline by default, non-strings as print() shows them, an empty delimiter and empty events work", async () => {
    const h = await harness((app, p) => [new Aggregator(app, p, { aggregationStrategy: new StringAggregationStrategy(), config: { completion_size: 3 } })]);
    await h.send(["a", { b: 1 }, 2]);
    expect(h.output).toEqual(["a\n{ b: 1 }\n2"]);
    const empty = await harness((app, p) => [new Aggregator(app, p, { aggregationStrategy: new StringAggregationStrategy(""), config: { completion_size: 3 } })]);
    await empty.send(["x", "", "y"]);
    expect(empty.output).toEqual(["xy"]);
    const blanks = await harness((app, p) => [new Aggregator(app, p, { aggregationStrategy: new StringAggregationStrategy(","), config: { completion_size: 5 } })]);
    await blanks.send(["", ""]);
    await blanks.pipeline.stop();
    expect(blanks.output).toEqual([","]);
  });

  it("each Aggregator has its own default strategy (BSPump shares one default instance)", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const a = new Aggregator(app, p, { id: "A" });
    const b = new Aggregator(app, p, { id: "B" });
    expect(a.aggregationStrategy).not.toBe(b.aggregationStrategy);
    a.aggregationStrategy.append({}, 1);
    expect(b.aggregationStrategy.isEmpty()).toBe(true);
  });
});

describe("Aggregator flushing in time", () => {
  it("completion_timeout: flushes on the tick when that many seconds passed since the last flush", async () => {
    const { app, clock } = clockedApp();
    const t = await aggregating({ app, config: { completion_size: 100, completion_timeout: "5s" } });
    await t.p.processBatch(["a", "b"]);
    clock.now = 1004;
    tick(app);
    expect(t.sink.events).toEqual([]);
    clock.now = 1005;
    tick(app);
    expect(t.sink.events).toEqual([[[{}, "a"], [{}, "b"]]]);
    // nothing buffered: a tick sends nothing
    clock.now = 1020;
    tick(app);
    expect(t.sink.events).toHaveLength(1);
    // the clock counts from the last flush, whatever made it
    await t.p.processBatch(["c"]);
    t.aggregator.flush();
    await t.p.processBatch(["d"]);
    clock.now = 1024;
    tick(app);
    expect(t.sink.events).toHaveLength(2);
    clock.now = 1025;
    tick(app);
    expect(t.sink.events).toEqual([[[{}, "a"], [{}, "b"]], [[{}, "c"]], [[{}, "d"]]]);
  });

  it("completion_timeout: a size flush resets both the count and the timeout", async () => {
    const { app, clock } = clockedApp();
    const t = await aggregating({ app, config: { completion_size: 2, completion_timeout: 5 } });
    await t.p.processBatch(["a"]);
    clock.now = 1005;
    tick(app); // timeout flush of ["a"]
    await t.p.processBatch(["b"]);
    expect(t.aggregator.currentSize).toBe(1);
    clock.now = 1006;
    await t.p.processBatch(["c"]); // size flush of ["b", "c"]: BSPump's count would have flushed ["b"] alone
    expect(t.sink.events).toEqual([[[{}, "a"]], [[{}, "b"], [{}, "c"]]]);
    await t.p.processBatch(["d"]);
    clock.now = 1010;
    tick(app);
    expect(t.sink.events).toHaveLength(2);
    clock.now = 1011;
    tick(app);
    expect(t.sink.events).toHaveLength(3);
  });

  it("completion_interval: flushes every that many seconds, keeping its cadence while nothing is buffered", async () => {
    const { app, clock } = clockedApp();
    const t = await aggregating({ app, config: { completion_size: 100, completion_interval: 10 } });
    await t.p.processBatch(["a"]);
    clock.now = 1005;
    tick(app);
    expect(t.sink.events).toEqual([]);
    clock.now = 1010;
    tick(app);
    expect(t.sink.events).toEqual([[[{}, "a"]]]);
    clock.now = 1020;
    tick(app); // empty: nothing sent, the cadence goes on
    clock.now = 1021;
    await t.p.processBatch(["b"]);
    clock.now = 1025;
    tick(app);
    expect(t.sink.events).toHaveLength(1);
    clock.now = 1030;
    tick(app);
    expect(t.sink.events).toEqual([[[{}, "a"]], [[{}, "b"]]]);
  });

  it("stops listening to ticks when the pipeline stops", async () => {
    const { app, clock } = clockedApp();
    const t = await aggregating({ app, config: { completion_timeout: 1 } });
    await t.p.stop();
    const flush = vi.spyOn(t.aggregator, "flush");
    clock.now = 2000;
    tick(app);
    expect(flush).not.toHaveBeenCalled();
  });

  it("timeout and interval cannot be combined; a size below 1 or a negative time is a ConfigError", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    expect(() => new Aggregator(app, p, { config: { completion_timeout: 5, completion_interval: 5 } })).toThrow(ConfigError);
    expect(() => new Aggregator(app, p, { config: { completion_timeout: 5, completion_interval: 5 } })).toThrow(/completion_timeout and completion_interval cannot be combined/);
    expect(() => new Aggregator(app, p, { config: { completion_size: 0 } })).toThrow(/key 'completion_size': completion_size must be at least 1/);
    expect(() => new Aggregator(app, p, { config: { completion_timeout: -1 } })).toThrow(/completion_timeout must not be negative/);
    expect(new Aggregator(app, p, { config: { completion_interval: "2m" } }).completionInterval).toBe(120);
  });
});

describe("Aggregator delivery", () => {
  it("a member's delivery stays held while it is buffered, and settles when the aggregate is delivered", async () => {
    const t = await aggregating<string, [Context, string][]>({ buffered: true, config: { completion_size: 2 } });
    const sink = t.buffer;
    const log = settleLog();
    await t.p.processBatch(["a", "b", "c"], [log.track(0), log.track(1), log.track(2)]);
    expect(sink.buffer).toHaveLength(1);
    expect(log.settled).toEqual([]); // the aggregate is in the sink's buffer, "c" in the aggregator's
    const aggregateDelivery = sink.buffer[0]!.context[DELIVERY] as Delivery<readonly Delivery[]>;
    expect(aggregateDelivery).toBeInstanceOf(Delivery);
    expect(aggregateDelivery.token.map((d) => d.token)).toEqual([0, 1]);
    sink.flush();
    expect(log.settled).toEqual([
      { token: 0, error: undefined },
      { token: 1, error: undefined },
    ]);
    await t.p.stop(); // the aggregator flushes "c", then the sink flushes it
    expect(sink.flushed).toHaveLength(2);
    expect(log.settled.map((s) => s.token)).toEqual([0, 1, 2]);
  });

  it("when the aggregate fails, every member fails with its error", async () => {
    const t = await aggregating<string, [Context, string][]>({ buffered: true, config: { completion_size: 2 } });
    const sink = t.buffer;
    const log = settleLog();
    await t.p.processBatch(["a", "b"], [log.track(0), log.track(1)]);
    const failure = new Error("the server refused the bulk");
    sink.failNextFlush = failure;
    sink.flush();
    expect(log.settled).toEqual([
      { token: 0, error: failure },
      { token: 1, error: failure },
    ]);
  });

  it("a hard error on the aggregate fails its members", async () => {
    class RefuseAggregates extends Processor<unknown, unknown> {
      process(): unknown {
        throw new Error("no aggregates here");
      }
    }
    const t = await aggregating({ config: { completion_size: 2 }, between: (app, p) => new RefuseAggregates(app, p) });
    const log = settleLog();
    await t.p.processBatch(["a", "b"], [log.track(0), log.track(1)]);
    expect(t.p.isError()).toBe(true);
    expect(log.settled.map((s) => [s.token, (s.error as Error).message])).toEqual([
      [0, "no aggregates here"],
      [1, "no aggregates here"],
    ]);
  });

  it("events a generator made from one source event settle it once, after every aggregate holding them was delivered", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new BufferSink(app, p);
    p.build(new ListSource(app, p), new IteratorGenerator(app, p), new Aggregator(app, p, { config: { completion_size: 2 } }), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch([["x", "y", "z"]], [log.track(9)]);
    sink.flush();
    expect(log.settled).toEqual([]); // "z" is still buffered in the aggregator
    await p.stop();
    expect(log.settled).toEqual([{ token: 9, error: undefined }]);
    expect(sink.flushed).toEqual([
      [[{ [DELIVERY]: expect.any(Delivery) }, "x"], [{ [DELIVERY]: expect.any(Delivery) }, "y"]],
      [[{ [DELIVERY]: expect.any(Delivery) }, "z"]],
    ]);
  });

  it("on stop, the last aggregate goes through an async processor into the sink before the sink flushes", async () => {
    class Slow<T> extends Processor<T, T> {
      async process(_context: Context, event: T): Promise<T> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return event;
      }
    }
    const t = await aggregating<string, [Context, string][]>({ buffered: true, config: { completion_size: 10 }, between: (app, p) => new Slow(app, p) });
    const log = settleLog();
    await t.p.processBatch(["a", "b", "c"], [log.track(0), log.track(1), log.track(2)]);
    await t.p.stop();
    expect(t.buffer.flushed).toHaveLength(1);
    expect(log.settled.map((s) => s.token)).toEqual([0, 1, 2]);
    expect(log.settled.every((s) => s.error === undefined)).toBe(true);
  });
});

import { describe, expect, it, vi } from "vitest";
import { Pipeline, PubSubTrigger } from "../../src/index.js";
import { IteratorGenerator, IteratorSource } from "../../src/common/index.js";
import { BufferSink, UnitTestSink, createApp, settleLog, until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

describe("IteratorGenerator", () => {
  it("makes one event per character of a string (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new IteratorGenerator(app, p)]);
    await h.send(["Generate me!"]);
    expect(h.output).toEqual([..."Generate me!"]);
  });

  it("iterates by code point, as Python iterates a str", async () => {
    const h = await harness((app, p) => [new IteratorGenerator(app, p)]);
    await h.send(["a😀b"]);
    expect(h.output).toEqual(["a", "😀", "b"]);
  });

  it("iterates arrays, Sets and Maps (entries), giving each event a copy of the context", async () => {
    const h = await harness((app, p) => [new IteratorGenerator(app, p)]);
    await h.send([[1, 2], new Set(["s"]), new Map([["k", "v"]])], [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(h.output).toEqual([1, 2, "s", ["k", "v"]]);
    expect(h.sink.contexts).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    expect(h.sink.contexts[0]).not.toBe(h.sink.contexts[1]);
  });

  it("drains an async iterable; the source's delivery settles only after the last element was delivered", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow(): AsyncGenerator<string> {
      yield "first";
      await gate;
      yield "second";
    }
    const h = await harness((app, p) => [new IteratorGenerator(app, p)]);
    const log = settleLog();
    await h.send([slow()], [log.track(1)]);
    await until(() => h.output.length === 1);
    expect(log.settled).toEqual([]);
    expect(h.pipeline.futures).toBe(1);
    release();
    await until(() => log.settled.length === 1);
    expect(h.output).toEqual(["first", "second"]);
    expect(log.settled).toEqual([{ token: 1, error: undefined }]);
  });

  it("refuses what is not iterable; a plain object gets a hint at MappingKeysGenerator", async () => {
    const h = await harness((app, p) => [new IteratorGenerator(app, p)]);
    void h.send([{ a: 1 }]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe(
      "'P.IteratorGenerator': expected an iterable, got an object (a plain object is not iterable: MappingKeysGenerator gives its keys)",
    );
    const soft = await harness((app, p) => [new IteratorGenerator(app, p)], { soft: true });
    await soft.send([42, null, "ok"]);
    expect(soft.output).toEqual(["o", "k"]);
    expect(soft.pipeline.metrics.warning).toBe(2);
  });
});

async function* numbers(): AsyncGenerator<number> {
  for (let i = 0; i < 25; i++) yield i;
}

function iteratorPipeline<T>(iterable: Iterable<T> | AsyncIterable<T>, config?: Record<string, number>) {
  const app = createApp();
  const p = new Pipeline(app, "P");
  const source = new IteratorSource<T>(app, p, iterable, { config }).on(new PubSubTrigger(app, "go!"));
  const sink = new UnitTestSink<T>(app, p);
  p.build(source, sink);
  const cycles: number[] = [];
  p.pubsub.subscribe("bspump.pipeline.cycle_end!", () => cycles.push(sink.events.length));
  const batches: number[] = [];
  const processBatch = p.processBatch.bind(p);
  vi.spyOn(p, "processBatch").mockImplementation((events, contexts) => {
    batches.push(events.length);
    return processBatch(events, contexts);
  });
  return { app, p, source, sink, cycles, batches, go: () => app.pubsub.publish("go!") };
}

describe("IteratorSource", () => {
  it("hands the iterator's elements to the pipeline with empty contexts on a cycle (BSPump's vector)", async () => {
    const t = iteratorPipeline([1, 2, 3][Symbol.iterator]());
    await t.p.start();
    t.go();
    await until(() => t.cycles.length === 1, "a cycle");
    expect(t.sink.events).toEqual([1, 2, 3]);
    expect(t.sink.contexts).toEqual([{}, {}, {}]);
    // an iterator is drained: the next cycle gives nothing
    t.go();
    await until(() => t.cycles.length === 2, "a second cycle");
    expect(t.sink.events).toEqual([1, 2, 3]);
    await t.p.stop();
  });

  it("starts an array over each cycle, in batches of batch_size", async () => {
    const once = Array.from({ length: 25 }, (_, i) => i);
    const t = iteratorPipeline(once, { batch_size: 10 });
    await t.p.start();
    t.go();
    await until(() => t.cycles.length === 1);
    expect(t.batches).toEqual([10, 10, 5]);
    t.go();
    await until(() => t.cycles.length === 2);
    expect(t.sink.events).toEqual([...once, ...once]);
    expect(t.batches).toEqual([10, 10, 5, 10, 10, 5]);
    await t.p.stop();
  });

  it("batches an async iterable's ready elements together, up to batch_size", async () => {
    const t = iteratorPipeline(numbers(), { batch_size: 10 });
    await t.p.start();
    t.go();
    await until(() => t.cycles.length === 1);
    expect(t.sink.events).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(t.batches).toEqual([10, 10, 5]);
    await t.p.stop();
  });

  it("does not hold an async iterable's element back waiting for a batch to fill", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* trickle(): AsyncGenerator<string> {
      yield "a";
      yield "b";
      await gate;
      yield "c";
    }
    const t = iteratorPipeline(trickle());
    await t.p.start();
    t.go();
    await until(() => t.sink.events.length === 2, "the ready elements");
    expect(t.sink.events).toEqual(["a", "b"]);
    release();
    await until(() => t.cycles.length === 1);
    expect(t.sink.events).toEqual(["a", "b", "c"]);
    expect(t.batches).toEqual([2, 1]);
    await t.p.stop();
  });

  it("stopping stops waiting for an async iterator's next element and closes it", async () => {
    const closed = vi.fn(async () => ({ done: true as const, value: undefined }));
    const never: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<number>>(() => {}), return: closed }),
    };
    const t = iteratorPipeline(never);
    await t.p.start();
    t.go();
    await until(() => t.p.sources[0]!.running && (t.source as IteratorSource).triggered);
    await new Promise((resolve) => setImmediate(resolve));
    await t.p.stop();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(t.sink.events).toEqual([]);
  });

  it("a cycle's events reach a buffering sink, which flushes them when the pipeline stops", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new BufferSink<number>(app, p);
    const source = new IteratorSource<number>(app, p, [1, 2]).on(new PubSubTrigger(app, "go!"));
    p.build(source, sink);
    await p.start();
    app.pubsub.publish("go!");
    await until(() => sink.buffer.length === 2);
    await p.stop();
    expect(sink.flushed).toEqual([1, 2]);
  });
});

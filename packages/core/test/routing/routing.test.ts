import { describe, expect, it } from "vitest";
import {
  DirectSource,
  InternalSource,
  Pipeline,
  Processor,
  QueueFullError,
  RouterSink,
  RoutingError,
  TeeProcessor,
  TeeSource,
  type Context,
  type PumpApplication,
} from "../../src/index.js";
import { Boom, BufferSink, UnitTestSink, ListSource, createApp, settleLog, until } from "../helpers.js";

/** Routes even numbers to Even.*InternalSource and odd ones to Odd.*InternalSource. */
class ParitySink extends RouterSink<number> {
  process(context: Context, event: number): void {
    this.route(context, event, event % 2 === 0 ? "Even.*InternalSource" : "Odd.*InternalSource");
  }
}

class SlowSink extends UnitTestSink<number> {
  override async process(context: Context, event: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    super.process(context, event);
  }
}

function target(app: PumpApplication, id: string, sink: (p: Pipeline) => UnitTestSink<number>, config?: Record<string, number>): { pipeline: Pipeline; sink: UnitTestSink<number>; source: InternalSource<number> } {
  const pipeline = new Pipeline(app, id);
  const source = new InternalSource<number>(app, pipeline, { config });
  const s = sink(pipeline);
  pipeline.build(source, s);
  app.pumpService.addPipeline(pipeline);
  return { pipeline, sink: s, source };
}

describe("routing between pipelines", () => {
  it("a RouterSink sends each event to the source it names; the target sees BSPump's { ancestor } context", async () => {
    const app = createApp();
    const even = target(app, "Even", (p) => new UnitTestSink(app, p));
    const odd = target(app, "Odd", (p) => new UnitTestSink(app, p));
    const router = new Pipeline(app, "Router");
    const source = new ListSource<number>(app, router);
    source.events = [1, 2, 3, 4, 5, 6];
    source.contexts = (i) => ({ n: i });
    router.build(source, new ParitySink(app, router));
    app.pumpService.addPipeline(router);
    await app.pumpService.initialize();
    await until(() => even.sink.events.length + odd.sink.events.length === 6);
    expect(even.sink.events).toEqual([2, 4, 6]);
    expect(odd.sink.events).toEqual([1, 3, 5]);
    expect(even.sink.contexts[0]).toEqual({ ancestor: { n: 1 } });
    await app.pumpService.finalize();
  });

  it("a full queue throttles the feeding pipeline instead of growing; nothing is dropped", async () => {
    const app = createApp();
    const slow = target(app, "Even", (p) => new SlowSink(app, p), { queue_max_size: 50 });
    target(app, "Odd", (p) => new SlowSink(app, p), { queue_max_size: 50 });
    const router = new Pipeline(app, "Router");
    const source = new ListSource<number>(app, router);
    source.events = Array.from({ length: 3000 }, (_, i) => i * 2);
    source.batchSize = 20;
    router.build(source, new ParitySink(app, router));
    app.pumpService.addPipeline(router);
    let maxQueue = 0;
    let throttled = false;
    router.pubsub.subscribe("bspump.pipeline.not_ready!", () => (throttled = true));
    slow.pipeline.pubsub.subscribe("bspump.InternalSource.backpressure_on!", () => (maxQueue = Math.max(maxQueue, slow.source.size)));
    const sample = setInterval(() => (maxQueue = Math.max(maxQueue, slow.source.size)), 0);
    await app.pumpService.initialize();
    await until(() => slow.sink.events.length === 3000, "all events through the slow pipeline");
    clearInterval(sample);
    expect(slow.sink.events).toEqual(source.events);
    expect(throttled).toBe(true);
    // bounded: the queue limit plus at most one batch of the feeder
    expect(maxQueue).toBeLessThanOrEqual(50 + 20);
    expect(router.getThrottles().size).toBe(0);
    await app.pumpService.finalize();
  });

  it("the router's pipeline waits while the target pipeline is not ready", async () => {
    const app = createApp();
    const even = target(app, "Even", (p) => new UnitTestSink(app, p));
    target(app, "Odd", (p) => new UnitTestSink(app, p));
    const router = new Pipeline(app, "Router");
    router.build(new ListSource(app, router), new ParitySink(app, router));
    app.pumpService.addPipeline(router);
    await app.pumpService.initialize();
    await router.processBatch([2]);
    expect(router.isReady()).toBe(true);
    even.pipeline.throttle("held", true);
    expect(router.isReady()).toBe(false);
    expect([...router.getThrottles()]).toEqual([even.pipeline]);
    even.pipeline.throttle("held", false);
    expect(router.isReady()).toBe(true);
    await app.pumpService.finalize();
  });

  it("put() on a full queue throws QueueFullError; putAsync() waits for room", async () => {
    const app = createApp();
    const p = new Pipeline(app, "Q");
    const source = new InternalSource<number>(app, p, { config: { queue_max_size: 2 } });
    const sink = new UnitTestSink<number>(app, p);
    p.build(source, sink);
    source.put({}, 1);
    source.put({}, 2);
    expect(() => source.put({}, 3)).toThrow(QueueFullError);
    let put = false;
    const waiting = source.putAsync({}, 3).then(() => (put = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(put).toBe(false);
    await p.start();
    await waiting;
    await until(() => sink.events.length === 3);
    expect(sink.events).toEqual([1, 2, 3]);
    expect(source.restGet()).toMatchObject({ Queue: 0, BackPressure: false });
    await p.stop();
  });

  it("routing to an address that is not a source fails clearly", async () => {
    const app = createApp();
    const router = new Pipeline(app, "Router");
    router.build(new ListSource(app, router), new ParitySink(app, router));
    app.pumpService.addPipeline(router);
    await router.start();
    void router.processBatch([1]);
    await until(() => router.isError());
    expect(router.error?.error).toBeInstanceOf(RoutingError);
    expect(router.error?.error).toMatchObject({ message: expect.stringMatching(/cannot route to 'Odd\.\*InternalSource': nothing is there/) });
  });

  it("a DirectSource processes at once, in the caller's turn", async () => {
    const app = createApp();
    const p = new Pipeline(app, "D");
    const source = new DirectSource<string>(app, p);
    const sink = new UnitTestSink<string>(app, p);
    p.build(source, sink);
    await p.start();
    source.put({ k: 1 }, "now");
    expect(sink.events).toEqual(["now"]);
    expect(sink.contexts[0]).toEqual({ ancestor: { k: 1 } });
    expect(p.metrics.in).toBe(1);
    await p.stop();
  });
});

function tee(app: PumpApplication): { main: Pipeline; mainSink: UnitTestSink<{ v: number }>; copy: Pipeline; copySink: UnitTestSink<{ v: number }> } {
  class Mutate extends Processor<{ v: number }, { v: number }> {
    process(_c: Context, e: { v: number }): { v: number } {
      e.v *= 10;
      return e;
    }
  }
  const main = new Pipeline(app, "Main");
  const mainSink = new UnitTestSink<{ v: number }>(app, main);
  main.build(new ListSource(app, main), new TeeProcessor(app, main), mainSink);
  const copy = new Pipeline(app, "Copy");
  const copySink = new UnitTestSink<{ v: number }>(app, copy);
  copy.build(new TeeSource(app, copy).bind("Main.TeeProcessor"), new Mutate(app, copy), copySink);
  app.pumpService.addPipelines(main, copy);
  return { main, mainSink, copy, copySink };
}

describe("tee", () => {
  it("a TeeSource bound from the consumer side gets a copy of every event; the original goes on untouched", async () => {
    const app = createApp();
    const { main, mainSink, copySink } = tee(app);
    await app.pumpService.initialize();
    await main.processBatch([{ v: 1 }, { v: 2 }]);
    await until(() => copySink.events.length === 2);
    expect(copySink.events).toEqual([{ v: 10 }, { v: 20 }]);
    expect(mainSink.events).toEqual([{ v: 1 }, { v: 2 }]);
    await app.pumpService.finalize();
  });

  it("a tracked event settles once both branches settled; a failure in either fails it", async () => {
    const app = createApp();
    const main = new Pipeline(app, "Main");
    const mainSink = new BufferSink<string>(app, main);
    main.build(new ListSource(app, main), new TeeProcessor(app, main).bind("Branch.*InternalSource"), mainSink);
    const branch = new Pipeline(app, "Branch");
    const branchSink = new UnitTestSink<string>(app, branch);
    branch.build(new InternalSource(app, branch), new Boom(app, branch), branchSink);
    app.pumpService.addPipelines(main, branch);
    await app.pumpService.initialize();
    const log = settleLog();
    await main.processBatch(["a", "bad"], [log.track(1), log.track(2)]);
    await until(() => branchSink.events.length === 1 && branch.isError());
    expect(log.settled).toEqual([]); // the main branch's sink has not flushed
    mainSink.flush();
    await until(() => log.settled.length === 2);
    expect(log.settled.find((s) => s.token === 1)?.error).toBeUndefined();
    expect(log.settled.find((s) => s.token === 2)?.error).toMatchObject({ message: "boom on bad" });
    branch.clearError();
    await app.pumpService.finalize();
  });
});

describe("orderly stop across routed pipelines", () => {
  it("the feeding pipeline stops first; the target processes its queue and flushes before it stops", async () => {
    const app = createApp();
    const feeder = new Pipeline(app, "Feeder");
    const source = new ListSource<number>(app, feeder);
    source.events = Array.from({ length: 500 }, (_, i) => i * 2);
    source.batchSize = 50;
    feeder.build(source, new ParitySink(app, feeder));
    const even = new Pipeline(app, "Even");
    const evenSink = new BufferSink<number>(app, even);
    even.build(new InternalSource(app, even, { config: { queue_max_size: 100 } }), evenSink);
    const odd = new Pipeline(app, "Odd");
    odd.build(new InternalSource(app, odd), new UnitTestSink(app, odd));
    app.pumpService.addPipelines(even, odd, feeder);
    const log = settleLog();
    source.contexts = (i) => log.track(i);
    const running = app.run();
    await until(() => evenSink.buffer.length > 0);
    app.stop();
    expect(await running).toBe(0);
    expect(evenSink.flushed.length + evenSink.buffer.length).toBe(evenSink.flushed.length);
    // every event the feeder took was flushed by the target, and settled successfully
    expect(log.settled.every((s) => s.error === undefined)).toBe(true);
    expect(log.settled.length).toBe(feeder.metrics.in);
    expect(evenSink.flushed.length).toBe(feeder.metrics.in);
  });
});

describe("error routes", () => {
  it("sends a failed event to another pipeline with the error and the component in its context, and goes on", async () => {
    const app = createApp();
    const errors = new Pipeline(app, "Errors");
    const errorSink = new UnitTestSink<string>(app, errors);
    errors.build(new InternalSource(app, errors), errorSink);
    const main = new Pipeline(app, "Main");
    const sink = new UnitTestSink<string>(app, main);
    main.build(new ListSource(app, main), new Boom(app, main), sink);
    main.setErrorRoute("Errors.*InternalSource");
    app.pumpService.addPipelines(errors, main);
    await app.pumpService.initialize();
    const log = settleLog();
    await main.processBatch(["a", "bad", "c"], [log.track(0), log.track(1), log.track(2)]);
    await until(() => errorSink.events.length === 1);
    expect(sink.events).toEqual(["a", "c"]);
    expect(main.isError()).toBe(false);
    expect(errorSink.events).toEqual(["bad"]);
    const ancestor = errorSink.contexts[0]!.ancestor as Context;
    expect(ancestor).toMatchObject({ error_component: "Boom", error_pipeline: "Main" });
    expect(ancestor.error).toMatchObject({ message: "boom on bad" });
    expect(main.metrics.routedErrors).toBe(1);
    expect(main.metrics.error).toBe(0);
    await until(() => log.settled.length === 3);
    expect(log.settled.every((s) => s.error === undefined)).toBe(true);
    await app.pumpService.finalize();
  });

  it("can send failed events to a sink of the pipeline's own; when that fails too the error is hard", async () => {
    const app = createApp();
    const main = new Pipeline(app, "Main");
    const errorSink = new UnitTestSink<string>(app, main, { id: "ErrorSink" });
    main.build(new ListSource(app, main), new Boom(app, main), new UnitTestSink(app, main));
    expect(() => main.setErrorRoute(main.locateProcessor("UnitTestSink") as UnitTestSink)).toThrow(/must not be in the chain/);
    main.setErrorRoute(errorSink);
    await main.start();
    await main.processBatch(["bad"]);
    expect(errorSink.events).toEqual(["bad"]);
    expect(errorSink.contexts[0]).toMatchObject({ error_component: "Boom" });
    errorSink.process = () => {
      throw new Error("error sink down");
    };
    void main.processBatch(["bad"]);
    await until(() => main.isError());
    expect(main.recentLog.some((r) => r.message === "Error route failed")).toBe(true);
  });
});

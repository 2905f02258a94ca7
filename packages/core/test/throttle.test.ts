import { describe, expect, it } from "vitest";
import { Generator, Pipeline, PipelineBuildError, type Context } from "../src/index.js";
import { UnitTestSink, ListSource, createApp, until } from "./helpers.js";

function pipeline(id: string): Pipeline {
  const app = createApp();
  const p = new Pipeline(app, id);
  p.build(new ListSource(app, p), new UnitTestSink(app, p));
  return p;
}

describe("readiness and throttling", () => {
  it("is not ready before start, ready after, and not ready while anyone throttles it", async () => {
    const p = pipeline("P");
    expect(p.isReady()).toBe(false);
    await p.start();
    expect(p.isReady()).toBe(true);
    p.throttle("sink", true);
    p.throttle("queue", true);
    expect(p.isReady()).toBe(false);
    expect([...p.getThrottles()]).toEqual(["sink", "queue"]);
    p.throttle("sink", false);
    expect(p.isReady()).toBe(false);
    p.throttle("queue", false);
    expect(p.isReady()).toBe(true);
  });

  it("ready() waits while throttled and resolves on release", async () => {
    const p = pipeline("P");
    await p.start();
    p.throttle("x", true);
    let released = false;
    const waiting = p.ready().then(() => (released = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(released).toBe(false);
    p.throttle("x", false);
    await waiting;
    expect(released).toBe(true);
  });

  it("a throttled pipeline holds its source: nothing is produced until released", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const source = new ListSource<number>(app, p);
    source.events = [1, 2, 3];
    source.batchSize = 1;
    const sink = new UnitTestSink<number>(app, p);
    p.build(source, sink);
    p.throttle("held", true);
    void p.start();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.events).toEqual([]);
    p.throttle("held", false);
    await until(() => sink.events.length === 3);
    await p.stop();
  });

  it("ready() rejects once the pipeline stops, so a waiting source ends", async () => {
    const p = pipeline("P");
    await p.start();
    p.throttle("x", true);
    const waiting = p.ready();
    await p.stop();
    await expect(waiting).rejects.toMatchObject({ code: "PUMP_STOPPED" });
  });

  it("link(): throttling a pipeline throttles the pipelines feeding it, recursively", async () => {
    const a = pipeline("A");
    const b = pipeline("B");
    const c = pipeline("C");
    await Promise.all([a.start(), b.start(), c.start()]);
    b.link(a); // A feeds B
    c.link(b); // B feeds C
    c.throttle("slow", true);
    expect([a.isReady(), b.isReady(), c.isReady()]).toEqual([false, false, false]);
    c.throttle("slow", false);
    expect([a.isReady(), b.isReady(), c.isReady()]).toEqual([true, true, true]);
    b.throttle("mid", true);
    expect([a.isReady(), b.isReady(), c.isReady()]).toEqual([false, false, true]);
    b.unlink(a);
    expect(a.isReady()).toBe(true);
  });

  it("link() passes on a throttle that is already on, and refuses a cycle", async () => {
    const a = pipeline("A");
    const b = pipeline("B");
    await Promise.all([a.start(), b.start()]);
    b.throttle("full", true);
    b.link(a);
    expect(a.isReady()).toBe(false);
    expect(() => a.link(b)).toThrow(PipelineBuildError);
    expect(() => a.link(a)).toThrow(/cycle/);
  });

  it("the futures limit throttles the pipeline while that many generators run", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P", { config: { async_concurrency_limit: 2 } });
    const gates: (() => void)[] = [];
    class Wait extends Generator {
      async generate(context: Context, event: unknown, depth: number): Promise<void> {
        await new Promise<void>((resolve) => gates.push(resolve));
        this.pipeline.inject(context, event, depth);
      }
    }
    const sink = new UnitTestSink(app, p);
    p.build(new ListSource(app, p), new Wait(app, p), sink);
    await p.start();
    await p.processBatch(["a"]);
    expect(p.isReady()).toBe(true);
    await p.processBatch(["b"]);
    expect(p.futures).toBe(2);
    expect(p.isReady()).toBe(false);
    expect(p.restGet().Throttles).toEqual(["AsyncFuturesThrottler"]);
    gates.shift()!();
    await until(() => p.isReady());
    expect(sink.events).toEqual(["a"]);
    gates.shift()!();
    await until(() => sink.events.length === 2);
  });

  it("stop() waits for generators' futures before the sinks stop", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const order: string[] = [];
    class Later extends Generator {
      async generate(context: Context, event: unknown, depth: number): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push("generated");
        this.pipeline.inject(context, event, depth);
      }
    }
    class Flushing extends UnitTestSink {
      override stop(): void {
        order.push(`sink stop with ${this.events.length}`);
      }
    }
    p.build(new ListSource(app, p), new Later(app, p), new Flushing(app, p));
    await p.start();
    await p.processBatch(["e"]);
    await p.stop();
    expect(order).toEqual(["generated", "sink stop with 1"]);
  });
});

describe("stop order", () => {
  it("drain, sources stop, processors stop, sources finish, then stopped! is published", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const order: string[] = [];
    class Tracked extends ListSource {
      override async drain(): Promise<void> {
        order.push("drain");
      }
      override async stop(timeoutSeconds?: number): Promise<boolean> {
        order.push("source stop");
        return super.stop(timeoutSeconds);
      }
      override async finish(): Promise<void> {
        order.push("finish");
      }
    }
    class Flushing extends UnitTestSink {
      override stop(): void {
        order.push("sink stop");
      }
    }
    p.build(new Tracked(app, p), new Flushing(app, p));
    p.pubsub.subscribe("bspump.pipeline.stopped!", () => order.push("stopped!"));
    await p.start();
    await p.stop();
    expect(order).toEqual(["drain", "source stop", "sink stop", "finish", "stopped!"]);
  });
});

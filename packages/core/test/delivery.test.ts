import { describe, expect, it } from "vitest";
import { CommitWindow, Delivery, DeliveryError, Generator, Pipeline, Processor, deliveryOf, type Context } from "../src/index.js";
import { Boom, BufferSink, UnitTestSink, ListSource, createApp, settleLog, until } from "./helpers.js";

class DropX extends Processor<string, string> {
  process(_c: Context, e: string): string | null {
    return e === "x" ? null : e;
  }
}

class Split extends Generator<string, string> {
  async generate(context: Context, event: string, depth: number): Promise<void> {
    for (const part of event.split(",")) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      this.pipeline.inject(context, part, depth);
    }
  }
}

describe("Delivery", () => {
  it("settles once, when every holder answered, with the first failure", () => {
    const calls: unknown[] = [];
    const d = new Delivery<string>((delivery, error) => calls.push([delivery.token, error]), "t");
    d.hold(2);
    d.done();
    const first = new Error("first");
    d.fail(first);
    expect(calls).toEqual([]);
    expect(d.pending).toBe(1);
    d.fail(new Error("second"));
    expect(calls).toEqual([["t", first]]);
    expect(d.settled).toBe(true);
  });

  it("refuses to settle more often than held, and to hold when settled", () => {
    const d = new Delivery(() => {}, 1);
    d.done();
    expect(() => d.done()).toThrow(DeliveryError);
    expect(() => d.hold()).toThrow(/already settled/);
  });

  it("deliveryOf reads it from a context", () => {
    const log = settleLog();
    expect(deliveryOf(log.track(3))?.token).toBe(3);
    expect(deliveryOf({})).toBeUndefined();
  });
});

describe("CommitWindow", () => {
  it("moves the commit point only over positions settled without a gap", () => {
    const w = new CommitWindow();
    for (const p of [10, 11, 12, 13]) w.add(p);
    expect(w.settle(12)).toBeUndefined();
    expect(w.settle(10)).toBe(10);
    expect(w.committed).toBe(10);
    expect(w.settle(11)).toBe(12);
    expect(w.size).toBe(1);
    expect(w.settle(13)).toBe(13);
  });

  it("refuses positions out of order or settled twice", () => {
    const w = new CommitWindow();
    w.add(5);
    expect(() => w.add(5)).toThrow(RangeError);
    w.settle(5);
    expect(() => w.settle(5)).toThrow(/not open/);
    for (const p of [7, 9, 11]) w.add(p);
    expect(() => w.settle(8)).toThrow(/not open/);
    w.settle(9);
    expect(() => w.settle(9)).toThrow(/not open/);
  });

  it("keeps the commit point right over long runs with gaps in positions and settlements", () => {
    const w = new CommitWindow();
    const positions: number[] = [];
    for (let i = 0; i < 5000; i++) positions.push(i * 3 + (i % 7 === 0 ? 1 : 0));
    for (const p of positions) w.add(p);
    // settle in chunks of 100, each chunk backwards: the point moves only when a chunk's first settles
    const moves: number[] = [];
    for (let c = 0; c < positions.length; c += 100) {
      for (let i = c + 99; i >= c; i--) {
        const moved = w.settle(positions[i]!);
        if (moved !== undefined) moves.push(moved);
      }
      expect(w.committed).toBe(positions[c + 99]);
      expect(w.size).toBe(positions.length - c - 100);
    }
    expect(moves).toEqual(positions.filter((_, i) => i % 100 === 99));
    expect(() => w.settle(positions[0]!)).toThrow(/not open/);
  });

  it("after clear() takes later positions only, and keeps its commit point", () => {
    const w = new CommitWindow();
    for (const p of [1, 2, 3]) w.add(p);
    w.settle(1);
    w.settle(3);
    w.clear();
    expect(w.size).toBe(0);
    expect(w.committed).toBe(1);
    expect(() => w.settle(2)).toThrow(/not open/);
    expect(() => w.add(3)).toThrow(RangeError);
    w.add(4);
    expect(w.settle(4)).toBe(4);
  });
});

describe("at-least-once through a pipeline", () => {
  it("a sink that writes synchronously confirms each event; a drop on purpose confirms too", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink<string>(app, p);
    p.build(new ListSource<string>(app, p), new DropX(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a", "x", "b"], [log.track(0), log.track(1), log.track(2)]);
    // settlements come in any order (x is settled at DropX, before a and b reach the sink)
    expect(log.settled.toSorted((l, r) => l.token - r.token)).toEqual([
      { token: 0, error: undefined },
      { token: 1, error: undefined },
      { token: 2, error: undefined },
    ]);
  });

  it("a buffering sink confirms on flush, not before", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new BufferSink<string>(app, p);
    p.build(new ListSource<string>(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a", "b"], [log.track(0), log.track(1)]);
    expect(log.settled).toEqual([]);
    sink.flush();
    expect(log.settled.map((s) => s.token)).toEqual([0, 1]);
  });

  it("a sink that gives up fails the delivery (the source will redeliver)", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new BufferSink<string>(app, p);
    p.build(new ListSource<string>(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a"], [log.track(0)]);
    sink.failNextFlush = new Error("server said no");
    sink.flush();
    expect(log.settled[0]?.error).toMatchObject({ message: "server said no" });
  });

  it("a generator's event settles once every injected event settled and generate() ended", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new BufferSink<string>(app, p);
    p.build(new ListSource<string>(app, p), new Split(app, p), new DropX(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a,x,b", "c"], [log.track(0), log.track(1)]);
    await until(() => sink.buffer.length === 3);
    await until(() => p.futures === 0);
    expect(log.settled).toEqual([]); // a and b (and c) sit in the buffer; x was dropped on purpose
    sink.flush();
    expect(log.settled.map((s) => s.token).toSorted()).toEqual([0, 1]);
    expect(log.settled.every((s) => s.error === undefined)).toBe(true);
  });

  it("one failed child fails the parent's delivery, once", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.handleError = () => false;
    const sink = new UnitTestSink<string>(app, p);
    p.build(new ListSource<string>(app, p), new Split(app, p), new Boom(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a,bad"], [log.track(0)]);
    await until(() => log.settled.length === 1);
    expect(log.settled[0]?.error).toMatchObject({ message: "boom on bad" });
  });

  it("a soft error confirms the event (dropped on purpose), a hard one fails it", async () => {
    const app = createApp();
    class Soft extends Pipeline {
      override handleError(): boolean {
        return true;
      }
    }
    const p = new Soft(app, "P");
    p.build(new ListSource<string>(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    const log = settleLog();
    await p.processBatch(["bad"], [log.track(0)]);
    expect(log.settled).toEqual([{ token: 0, error: undefined }]);
  });

  it("an event no sink consumes fails its delivery", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource<string>(app, p), new DropX(app, p));
    await p.start();
    const log = settleLog();
    void p.processBatch(["a"], [log.track(0)]);
    await until(() => log.settled.length === 1);
    expect(log.settled[0]?.error).toMatchObject({ name: "NotConsumedError" });
  });

  it("every tracked event settles exactly once under drops, fan-out, errors and a buffering sink", async () => {
    const app = createApp();
    class Mixed extends Pipeline {
      override handleError(error: unknown): boolean {
        return (error as Error).message === "boom on soft";
      }
    }
    const p = new Mixed(app, "P");
    const boom = new Boom(app, p);
    boom.bad = "soft";
    const sink = new BufferSink<string>(app, p);
    p.build(new ListSource<string>(app, p), new Split(app, p), new DropX(app, p), boom, sink);
    await p.start();
    const counts = new Map<number, number>();
    const contexts: Context[] = [];
    const events: string[] = [];
    for (let i = 0; i < 200; i++) {
      events.push(["a", "x", "a,b", "soft", "a,soft,x", "x,x"][i % 6]!);
      contexts.push({ [Symbol.for("@pump/core.delivery")]: new Delivery<number>((d) => counts.set(d.token, (counts.get(d.token) ?? 0) + 1), i) });
    }
    await p.processBatch(events, contexts);
    await until(() => p.futures === 0);
    await p.stop(); // the sink flushes in stop()
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(p.isError()).toBe(false);
  });
});

describe("failEvent, for sinks that learn of a failure later", () => {
  it("soft: counted as a warning and the delivery is done; hard: the pipeline stops and the delivery fails", async () => {
    const app = createApp();
    class Soft extends Pipeline {
      override handleError(error: unknown): boolean {
        return (error as Error).message === "soft";
      }
    }
    const p = new Soft(app, "P");
    const sink = new BufferSink<string>(app, p);
    p.build(new ListSource<string>(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["a", "b"], [log.track(0), log.track(1)]);
    const [a, b] = sink.buffer.splice(0);
    expect(p.failEvent(a!.context, a!.event, new Error("soft"), sink)).toBe(false);
    expect(p.metrics.warning).toBe(1);
    expect(p.failEvent(b!.context, b!.event, new Error("refused"), sink)).toBe(true);
    expect(p.isError()).toBe(true);
    expect(p.error?.componentId).toBe("BufferSink");
    expect(log.settled).toEqual([
      { token: 0, error: undefined },
      { token: 1, error: expect.objectContaining({ message: "refused" }) },
    ]);
  });
});

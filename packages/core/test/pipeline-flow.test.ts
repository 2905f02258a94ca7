import { describe, expect, it } from "vitest";
import { Generator, NotConsumedError, Pipeline, Processor, type Context } from "../src/index.js";
import { UnitTestSink, ListSource, createApp, until } from "./helpers.js";

class Double extends Processor<number, number> {
  process(_c: Context, n: number): number {
    return n * 2;
  }
}

class DropOdd extends Processor<number, number> {
  process(_c: Context, n: number): number | null {
    return n % 2 === 1 ? null : n;
  }
}

class AsyncAddOne extends Processor<number, number> {
  async process(_c: Context, n: number): Promise<number> {
    // resolve in reverse order of arrival so ordering must come from the pipeline
    await new Promise((resolve) => setTimeout(resolve, n % 3));
    return n + 1;
  }
}

function started(pipeline: Pipeline): Pipeline {
  void pipeline.start();
  return pipeline;
}

describe("event flow", () => {
  it("runs a batch through every processor into the sink, in order, counting in/out/drop", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink<number>(app, p);
    p.build(new ListSource<number>(app, p), new DropOdd(app, p), new Double(app, p), sink);
    await p.start();
    await p.processBatch([1, 2, 3, 4, 5, 6]);
    expect(sink.events).toEqual([4, 8, 12]);
    expect(p.metrics.counters()).toEqual({ in: 6, out: 3, drop: 3, warning: 0, error: 0, routedErrors: 0 });
  });

  it("profiles each processor: runs are the events it was given", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new DropOdd(app, p), new Double(app, p), new UnitTestSink(app, p));
    await p.start();
    await p.processBatch([1, 2, 3, 4]);
    const { profiler } = p.metricsSnapshot();
    expect(profiler.DropOdd!.runs).toBe(4);
    expect(profiler.Double!.runs).toBe(2);
    expect(profiler.UnitTestSink!.runs).toBe(2);
    expect(profiler.Double!.duration).toBeGreaterThanOrEqual(0);
  });

  it("profiles exactly across drops, awaited results and soft errors, batch after batch", async () => {
    class FailOnFour extends Processor<number, number> {
      process(_c: Context, n: number): number {
        if (n === 4) throw new Error("four");
        return n;
      }
    }
    class Soft extends Pipeline {
      override handleError(): boolean {
        return true;
      }
    }
    const app = createApp();
    const p = new Soft(app, "P");
    const sink = new UnitTestSink<number>(app, p);
    p.build(new ListSource(app, p), new DropOdd(app, p), new FailOnFour(app, p), new AsyncAddOne(app, p), new Double(app, p), sink);
    await p.start();
    for (let round = 0; round < 3; round++) await p.processBatch([0, 1, 2, 3, 4, 5, 6]);
    // each round: DropOdd takes 7 and passes 0 2 4 6; FailOnFour throws on 4 (soft: dropped); 0 2 6 are awaited, +1, doubled
    const { profiler } = p.metricsSnapshot();
    expect(profiler.DropOdd!.runs).toBe(21);
    expect(profiler.FailOnFour!.runs).toBe(12);
    expect(profiler.AsyncAddOne!.runs).toBe(9);
    expect(profiler.Double!.runs).toBe(9);
    expect(profiler.UnitTestSink!.runs).toBe(9);
    expect(sink.events).toEqual([2, 6, 14, 2, 6, 14, 2, 6, 14]);
    expect(p.metrics.counters()).toMatchObject({ in: 21, out: 9, drop: 12 });
  });

  it("gives each event of a batch its own context when the source gives none", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink(app, p);
    class Mark extends Processor {
      process(context: Context, event: unknown): unknown {
        context.seen = (context.seen as number | undefined ?? 0) + 1;
        return event;
      }
    }
    p.build(new ListSource(app, p), new Mark(app, p), sink);
    await p.start();
    await p.processBatch(["a", "b"]);
    expect(sink.contexts).toHaveLength(2);
    expect(sink.contexts[0]).not.toBe(sink.contexts[1]);
    expect(sink.contexts.map((c) => c.seen)).toEqual([1, 1]);
  });

  it("copies the context given to process() (the source may reuse it), and uses batch contexts as they are", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink(app, p);
    p.build(new ListSource(app, p), sink);
    await p.start();
    const shared = { source: "x" };
    await p.process("a", shared);
    expect(sink.contexts[0]).toEqual({ source: "x" });
    expect(sink.contexts[0]).not.toBe(shared);
    const own = [{ n: 1 }];
    await p.processBatch(["b"], own);
    expect(sink.contexts[1]).toBe(own[0]);
  });

  it("refuses a batch whose contexts do not match its events", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new UnitTestSink(app, p));
    await p.start();
    await expect(p.processBatch([1, 2], [{}])).rejects.toThrow(/2 events but 1 contexts/);
  });

  it("awaits a processor that returns a promise, keeping event order", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink<number>(app, p);
    p.build(new ListSource<number>(app, p), new Double(app, p), new AsyncAddOne(app, p), new DropOdd(app, p), sink);
    await p.start();
    await p.processBatch([5, 4, 3, 2, 1, 0]);
    // n*2+1 is always odd → all dropped by DropOdd; use another chain to see values
    expect(sink.events).toEqual([]);
    expect(p.metrics.drop).toBe(6);
    const q = new Pipeline(app, "Q");
    const sink2 = new UnitTestSink<number>(app, q);
    q.build(new ListSource<number>(app, q), new AsyncAddOne(app, q), sink2);
    await q.start();
    await q.processBatch([5, 4, 3, 2, 1, 0]);
    expect(sink2.events).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("awaits an async sink before counting the event out", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const got: string[] = [];
    class SlowSink extends UnitTestSink<string> {
      override async process(context: Context, event: string): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 1));
        got.push(event);
        super.process(context, event);
      }
    }
    p.build(new ListSource<string>(app, p), new SlowSink(app, p));
    await p.start();
    await p.processBatch(["a", "b", "c"]);
    expect(got).toEqual(["a", "b", "c"]);
    expect(p.metrics.out).toBe(3);
  });

  it("a source's events reach the sink when the pipeline starts", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const source = new ListSource<number>(app, p);
    source.events = Array.from({ length: 2500 }, (_, i) => i);
    source.batchSize = 100;
    const sink = new UnitTestSink<number>(app, p);
    p.build(source, sink);
    started(p);
    await until(() => sink.events.length === 2500, "all events");
    expect(sink.events).toEqual(source.events);
    await p.stop();
  });

  it("an event that no sink consumes is a hard error naming the pipeline", async () => {
    const app = createApp();
    const p = new Pipeline(app, "NoSink");
    p.build(new ListSource(app, p), new Double(app, p));
    await p.start();
    void p.processBatch([1]);
    await until(() => p.isError());
    expect(p.error?.error).toBeInstanceOf(NotConsumedError);
    expect(p.error?.error).toMatchObject({ message: expect.stringMatching(/NoSink.*not consumed by a Sink.*Double/) });
    expect(p.metrics.drop).toBe(1);
    await p.stop();
  });

  it("a generator's events flow through the next depth", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    class Split extends Generator<string, string> {
      generate(context: Context, event: string, depth: number): void {
        for (const part of event.split(",")) this.pipeline.inject(context, part, depth);
      }
    }
    class Upper extends Processor<string, string> {
      process(_c: Context, e: string): string {
        return e.toUpperCase();
      }
    }
    const sink = new UnitTestSink<string>(app, p);
    const split = new Split(app, p);
    p.build(new ListSource<string>(app, p), split, new Upper(app, p), sink);
    expect([...p.iterProcessors()].map((d) => d.map((x) => x.id))).toEqual([["Split"], ["Upper", "UnitTestSink"]]);
    expect(split.pipelineDepth).toBe(0);
    await p.start();
    await p.processBatch(["a,b", "c"]);
    await until(() => sink.events.length === 3);
    expect(sink.events).toEqual(["A", "B", "C"]);
    expect(p.metrics.in).toBe(2);
    expect(p.metrics.out).toBe(3);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { BatchSink, ConfigError, Pipeline, UndeliveredError, type BatchEntry, type BatchLimits, type BatchOutcome, type Context } from "../src/index.js";
import { captureLogs, createApp, ListSource, settleLog, until } from "./helpers.js";

class Transient extends Error {
  retryAfterMs = 0;
}
class Refusal extends Error {}

/** A batch sink whose server is a script: each send records its batch and answers what `answer` says. */
class ScriptedSink extends BatchSink<number, number> {
  readonly batches: number[][] = [];
  answer: (batch: number[], attempt: number) => BatchOutcome | Promise<BatchOutcome> = () => undefined;
  sizeOf: (event: number) => number = () => 10;
  unitsOf: (event: number) => number = () => 1;
  readyWith: Promise<unknown> | undefined;

  constructor(pipeline: Pipeline, limits: Partial<BatchLimits> = {}) {
    super(pipeline.app, pipeline);
    this.limits = { ...this.limits, lingerMs: 0, retryDelayMs: 1, retryDelayMaxMs: 4, ...limits };
  }

  process(context: Context, event: number): void {
    this.enqueue(context, event, event, this.sizeOf(event), this.unitsOf(event));
  }

  protected async send(batch: readonly BatchEntry<number>[]): Promise<BatchOutcome> {
    const values = batch.map((entry) => entry.payload);
    this.batches.push(values);
    return this.answer(values, this.batches.length);
  }

  protected override isTransient(error: unknown): boolean {
    return error instanceof Transient;
  }

  protected override retryAfterMs(error: unknown): number {
    return error instanceof Transient ? error.retryAfterMs : 0;
  }

  protected override refusesEntries(error: unknown): boolean {
    return error instanceof Refusal;
  }

  protected override ready(): Promise<unknown> | undefined {
    return this.readyWith;
  }
}

/** Drops (and confirms) events its sink gives up on, as `handleError` returning true does. */
class LenientPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

function setUp(limits: Partial<BatchLimits> = {}, PipelineClass: typeof Pipeline = Pipeline) {
  const app = createApp();
  const pipeline = new PipelineClass(app, "P");
  const sink = new ScriptedSink(pipeline, limits);
  pipeline.build(new ListSource(app, pipeline), sink);
  const log = settleLog();
  const feed = (...events: number[]): void => {
    for (const n of events) sink.process(log.track(n), n);
  };
  sink.start();
  return { pipeline, sink, feed, settled: log.settled };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => {
  logs?.restore();
  logs = undefined;
});

describe("BatchSink batches", () => {
  it("at most batchSize units and batchBytes bytes, an oversized event alone", async () => {
    const { sink, feed } = setUp({ batchSize: 4, batchBytes: 100 });
    sink.sizeOf = (n) => (n === 6 ? 500 : 10);
    feed(...range(10));
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1, 2, 3], [4, 5], [6], [7, 8, 9]]);
  });

  it("counts the units an event weighs, not the events", async () => {
    const { sink, feed } = setUp({ batchSize: 7 });
    sink.unitsOf = () => 3;
    feed(...range(5));
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1], [2, 3], [4]]);
  });

  it("waits lingerMs for a batch to fill, and sends it at once on stop", async () => {
    const { sink, feed } = setUp({ lingerMs: 60_000 });
    feed(0, 1, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.batches).toEqual([]);
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1, 2]]);
  });

  it("sends a full batch without waiting for the linger", async () => {
    const { sink, feed } = setUp({ lingerMs: 60_000, batchSize: 3 });
    feed(0, 1, 2, 3);
    await until(() => sink.batches.length === 1, "the full batch");
    expect(sink.batches).toEqual([[0, 1, 2]]);
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1, 2], [3]]);
  });
});

describe("BatchSink settles", () => {
  it("each event only once the server confirmed its batch", async () => {
    const { sink, feed, settled } = setUp({ batchSize: 10 });
    const gate = Promise.withResolvers<void>();
    sink.answer = () => gate.promise;
    feed(...range(5));
    await until(() => sink.batches.length === 1, "the send");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toEqual([]);
    expect(sink.buffered).toBe(5);
    gate.resolve();
    await until(() => settled.length === 5, "the deliveries");
    expect(settled.every((s) => s.error === undefined)).toBe(true);
    expect(sink.buffered).toBe(0);
    expect(sink.stats).toMatchObject({ delivered: 5, batches: 1, failed: 0 });
    await sink.stop();
  });

  it("fails alone the events the server's answer refuses", async () => {
    const { pipeline, sink, feed, settled } = setUp({ batchSize: 10 });
    sink.answer = (batch) => batch.map((n) => (n === 2 ? new Error("no twos") : undefined));
    feed(...range(4));
    await sink.stop();
    expect(settled.filter((s) => s.error === undefined).map((s) => s.token)).toEqual([0, 1, 3]);
    const refused = settled.find((s) => s.token === 2)!.error;
    expect(refused).toBeInstanceOf(UndeliveredError);
    expect((refused as Error).message).toMatch(/refused the event: no twos/);
    expect(sink.stats).toMatchObject({ delivered: 3, rejected: 1 });
    expect(pipeline.error?.error).toBe(refused);
  });
});

describe("BatchSink throttles", () => {
  it("from highEvents held until down to lowEvents, counting what is being sent", async () => {
    const { pipeline, sink, feed } = setUp({ batchSize: 2, highEvents: 4, lowEvents: 2 });
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    sink.answer = (_batch, attempt) => gates[attempt - 1]?.promise;
    feed(0, 1, 2);
    expect([...pipeline.getThrottles()]).toEqual([]);
    feed(3);
    expect([...pipeline.getThrottles()]).toEqual([sink]);
    expect(sink.stats.throttled).toBe(1);
    await until(() => sink.batches.length === 1, "the first send");
    gates[0]!.resolve();
    await until(() => pipeline.getThrottles().size === 0, "the release");
    expect(sink.buffered).toBe(2);
    gates[1]!.resolve();
    await sink.stop();
    expect(sink.stats).toMatchObject({ delivered: 4, throttled: 1, maxBuffered: 4 });
  });

  it("from highBytes held", async () => {
    const { pipeline, sink, feed } = setUp({ highBytes: 25, lowBytes: 0 });
    const gate = Promise.withResolvers<void>();
    sink.answer = () => gate.promise;
    feed(0, 1);
    expect(pipeline.getThrottles().size).toBe(0);
    feed(2);
    expect([...pipeline.getThrottles()]).toEqual([sink]);
    gate.resolve();
    await sink.stop();
    expect(pipeline.getThrottles().size).toBe(0);
  });
});

describe("BatchSink retries", () => {
  it("transient failures with backoff, then settles; logs the first failure and the recovery", async () => {
    logs = captureLogs();
    const { sink, feed, settled } = setUp();
    sink.answer = (_batch, attempt) => {
      if (attempt <= 3) throw new Transient(`down (${attempt})`);
    };
    feed(0, 1);
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1], [0, 1], [0, 1], [0, 1]]);
    expect(settled.map((s) => s.error)).toEqual([undefined, undefined]);
    expect(sink.stats).toMatchObject({ retries: 3, delivered: 2, failed: 0 });
    const lines = logs.records.filter((r) => r.message.startsWith("Sending"));
    expect(lines.map((r) => [r.level, r.message])).toEqual([
      ["warn", "Sending failed; trying again"],
      ["debug", "Sending failed; trying again"],
      ["debug", "Sending failed; trying again"],
      ["notice", "Sending works again"],
    ]);
  });

  it("waits at least the server's retryAfterMs", async () => {
    const { sink, feed } = setUp();
    const at: number[] = [];
    sink.answer = (_batch, attempt) => {
      at.push(performance.now());
      if (attempt === 1) throw Object.assign(new Transient("busy"), { retryAfterMs: 60 });
    };
    feed(0);
    await sink.stop();
    expect(at).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(55);
  });

  it("gives up once the first event is deliveryTimeoutMs old: the events go through the error handling", async () => {
    const { pipeline, sink, feed, settled } = setUp({ deliveryTimeoutMs: 30 });
    sink.answer = () => {
      throw new Transient("still down");
    };
    feed(0, 1, 2);
    await sink.stop();
    expect(sink.stats.retries).toBeGreaterThan(0);
    expect(settled).toHaveLength(3);
    const error = settled[0]!.error as UndeliveredError;
    expect(error).toBeInstanceOf(UndeliveredError);
    expect(error.message).toMatch(/^gave up sending 3 event\(s\) to ScriptedSink after \d+ retries: still down$/);
    expect(error.events).toBe(3);
    expect(settled.every((s) => s.error === error)).toBe(true);
    expect(sink.stats.failed).toBe(3);
    expect(pipeline.error?.error).toBe(error);
  });

  it("a permanent failure is not tried again: soft error handling drops and confirms the events, and the sink goes on", async () => {
    const { pipeline, sink, feed, settled } = setUp({ batchSize: 2 }, LenientPipeline);
    sink.answer = (batch) => {
      if (batch.includes(0)) throw new Error("no such table");
    };
    feed(0, 1, 2, 3);
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1], [2, 3]]);
    expect(settled.map((s) => s.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(sink.stats).toMatchObject({ retries: 0, failed: 2, delivered: 2 });
    expect(pipeline.error).toBeUndefined();
    expect(pipeline.metrics.warning).toBe(2);
  });
});

describe("BatchSink isolates refused events", () => {
  it("halves a batch refused because of its events until each stands alone; the others are stored", async () => {
    const { sink, feed, settled } = setUp({ batchSize: 8 }, LenientPipeline);
    const stored: number[] = [];
    sink.answer = (batch) => {
      if (batch.includes(5)) throw new Refusal("five does not fit");
      stored.push(...batch);
    };
    feed(...range(8));
    await sink.stop();
    expect(stored).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(sink.batches).toEqual([range(8), [0, 1, 2, 3], [4, 5, 6, 7], [4, 5], [4], [5], [6, 7]]);
    expect(sink.stats).toMatchObject({ isolated: 1, rejected: 1, delivered: 7, failed: 0 });
    expect(settled).toHaveLength(8);
  });

  it("reports a refused event with the connector's rejectError", async () => {
    class RowSink extends ScriptedSink {
      protected override rejectError(entry: BatchEntry<number>, reason: Error): Error {
        return new Error(`row ${entry.payload}: ${reason.message}`);
      }
    }
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const sink = new RowSink(pipeline);
    pipeline.build(new ListSource(app, pipeline), sink);
    const log = settleLog();
    sink.answer = () => {
      throw new Refusal("too long");
    };
    sink.start();
    sink.process(log.track(9), 9);
    await sink.stop();
    expect((log.settled[0]!.error as Error).message).toBe("row 9: too long");
  });
});

describe("BatchSink lifecycle", () => {
  it("sends nothing before ready() resolved", async () => {
    const { sink, feed } = setUp();
    await sink.stop();
    const gate = Promise.withResolvers<void>();
    sink.readyWith = gate.promise;
    sink.start();
    feed(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.batches).toEqual([]);
    gate.resolve();
    await until(() => sink.batches.length === 1, "the send after ready");
    await sink.stop();
  });

  it("stop does not wait for a ready() that never comes: it sends what it holds", async () => {
    const { sink, feed, settled } = setUp();
    await sink.stop();
    sink.readyWith = new Promise(() => {});
    sink.start();
    feed(0, 1);
    await sink.stop();
    expect(sink.batches).toEqual([[0, 1]]);
    expect(settled).toHaveLength(2);
  });

  it("a hook that throws fails its batch visibly and the sink goes on with the next", async () => {
    class BrokenHook extends ScriptedSink {
      protected override isTransient(): boolean {
        throw new TypeError("bug in isTransient");
      }
    }
    const app = createApp();
    const pipeline = new LenientPipeline(app, "P");
    const sink = new BrokenHook(pipeline, { batchSize: 1 });
    pipeline.build(new ListSource(app, pipeline), sink);
    const log = settleLog();
    sink.answer = (batch) => {
      if (batch[0] === 0) throw new Error("fails");
    };
    sink.start();
    sink.process(log.track(0), 0);
    sink.process(log.track(1), 1);
    await sink.stop();
    expect(sink.batches).toEqual([[0], [1]]);
    expect(log.settled.map((s) => s.token)).toEqual([0, 1]);
    expect(sink.stats).toMatchObject({ failed: 1, delivered: 1 });
  });

  it("shows what it holds and its stats in the REST API", async () => {
    const { sink, feed } = setUp({ lingerMs: 60_000 });
    feed(0, 1);
    expect(sink.restGet()).toMatchObject({ Buffered: 2, BufferedBytes: 20, Stats: { delivered: 0 } });
    await sink.stop();
    expect(sink.restGet()).toMatchObject({ Buffered: 0, Stats: { delivered: 2, batches: 1 } });
  });
});

describe("BatchSink.configuredLimits", () => {
  class Configured extends ScriptedSink {
    static override ConfigDefaults = { batch_size: 50, flush_interval: 0.2, "watermark.high": 400, "watermark.low": 900, retry_delay: "250ms", delivery_timeout: "1m" };

    limitsNow(): BatchLimits {
      return this.configuredLimits();
    }
  }

  it("reads the usual keys (durations in seconds or with a unit), keeps the defaults of keys the sink lacks, caps a low mark at its high one", () => {
    const app = createApp();
    const sink = new Configured(new Pipeline(app, "P"));
    expect(sink.limitsNow()).toEqual({
      batchSize: 50,
      batchBytes: 1048576,
      lingerMs: 200,
      highEvents: 400,
      lowEvents: 400,
      highBytes: 33554432,
      lowBytes: 16777216,
      deliveryTimeoutMs: 60_000,
      retryDelayMs: 250,
      retryDelayMaxMs: 10_000,
    });
  });

  it("a size of 0 is a ConfigError naming the section and key", () => {
    class ZeroBatch extends Configured {
      static override ConfigDefaults = { ...Configured.ConfigDefaults, batch_size: 0 };
    }
    const sink = new ZeroBatch(new Pipeline(createApp(), "P"));
    expect(() => sink.limitsNow()).toThrow(ConfigError);
    expect(() => sink.limitsNow()).toThrow(/\[pipeline:P:ZeroBatch\] key 'batch_size'.*must be more than 0, got 0/);
  });
});

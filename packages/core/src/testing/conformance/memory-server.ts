import { setTimeout as delay } from "node:timers/promises";
import { BatchSink, type BatchEntry, type BatchOutcome } from "../../component/batch-sink.js";
import type { ComponentOptions } from "../../component/options.js";
import type { Context } from "../../context.js";
import type { PumpApplication } from "../../application/application.js";
import type { Pipeline } from "../../pipeline/pipeline.js";

/** An in-memory stand-in for a server: it stores items after a short latency, can be down, and refuses items `refuses` says no to. */
export class MemoryServer<T = unknown> {
  readonly items: T[] = [];
  /** While true every write fails as a network error would. */
  down = false;
  latencyMs = 2;
  refuses: (item: T) => boolean = () => false;

  /** Stores what it accepts of `batch`; resolves to each item's refusal (undefined: stored). Rejects while down. */
  async write(batch: readonly T[]): Promise<(Error | undefined)[]> {
    await delay(this.latencyMs);
    if (this.down) throw new Error("connection refused (the memory server is down)");
    return batch.map((item) => {
      if (this.refuses(item)) return new Error(`refused: ${JSON.stringify(item)}`);
      this.items.push(item);
      return undefined;
    });
  }
}

/**
 * A sink to a `MemoryServer` that keeps the contract the conformance kit checks: a `BatchSink` in a few
 * lines — batches of 20, the pipeline throttled from 100 events held until half of them are written,
 * retries while the server is down, each event settled once the server stored it (a refused one
 * through the pipeline's error handling), the rest written on stop.
 */
export class MemorySink<T = unknown> extends BatchSink<T, T> {
  readonly server: MemoryServer<T>;

  constructor(app: PumpApplication, pipeline: Pipeline, server: MemoryServer<T>, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.server = server;
    this.limits = { ...this.limits, batchSize: 20, lingerMs: 0, highEvents: 100, lowEvents: 50, deliveryTimeoutMs: Infinity, retryDelayMs: 20, retryDelayMaxMs: 20 };
  }

  process(context: Context, event: T): void {
    this.enqueue(context, event, event, 1);
  }

  protected send(batch: readonly BatchEntry<T>[]): Promise<BatchOutcome> {
    return this.server.write(batch.map((entry) => entry.payload));
  }

  /** The memory server fails a write only while it is down. */
  protected override isTransient(): boolean {
    return true;
  }
}

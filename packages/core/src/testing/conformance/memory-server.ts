import { setTimeout as delay } from "node:timers/promises";
import { Sink } from "../../component/sink.js";
import type { ComponentOptions } from "../../component/options.js";
import type { Context } from "../../context.js";
import { deliveryOf } from "../../delivery/delivery.js";
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

interface Held<T> {
  context: Context;
  event: T;
}

/**
 * A sink to a `MemoryServer` that keeps the contract the conformance kit checks — the shape of a real
 * buffering sink in a few lines: a buffer written in batches by one loop, the pipeline throttled from
 * `capacity` events held until half of them are written, retries while the server is down, each event
 * settled once the server stored it (a refused one through the pipeline's error handling), the rest
 * written on stop.
 */
export class MemorySink<T = unknown> extends Sink<T> {
  override readonly confirmsDelivery = true;
  readonly server: MemoryServer<T>;
  capacity = 100;
  batchSize = 20;
  retryMs = 20;
  protected buffer: Held<T>[] = [];
  #held = 0;
  #throttled = false;
  #loop: Promise<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, server: MemoryServer<T>, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.server = server;
  }

  process(context: Context, event: T): void {
    this.buffer.push({ context, event });
    this.#held++;
    if (this.#held >= this.capacity && !this.#throttled) {
      this.#throttled = true;
      this.pipeline.throttle(this, true);
    }
    this.#loop ??= this.#write().finally(() => {
      this.#loop = undefined;
    });
  }

  override async stop(): Promise<void> {
    while (this.#loop !== undefined) await this.#loop;
  }

  async #write(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      let outcome: (Error | undefined)[];
      for (let attempts = 1; ; attempts++) {
        try {
          outcome = await this.server.write(batch.map((held) => held.event));
          break;
        } catch (error) {
          this.log[attempts === 1 ? "warn" : "debug"]("Write failed; trying again", { error, attempts });
          await delay(this.retryMs);
        }
      }
      batch.forEach((held, k) => this.#settle(held, outcome[k]));
      this.#held -= batch.length;
      if (this.#throttled && this.#held <= this.capacity / 2) {
        this.#throttled = false;
        this.pipeline.throttle(this, false);
      }
    }
  }

  #settle(held: Held<T>, refusal: Error | undefined): void {
    const delivery = deliveryOf(held.context);
    if (refusal === undefined) {
      delivery?.done();
      return;
    }
    if (this.pipeline.setError(held.context, held.event, refusal, this)) delivery?.fail(refusal);
    else delivery?.done();
  }
}

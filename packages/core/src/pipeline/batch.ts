import { KIND_GENERATOR, KIND_SINK, type ProcessorBase } from "../component/processor-base.js";
import type { Processor } from "../component/processor.js";
import type { Sink } from "../component/sink.js";
import type { Generator } from "../component/generator.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import { StoppedError } from "../errors.js";
import type { PipelineMetrics } from "./metrics.js";

/** What a batch needs from its pipeline; the pipeline hands it over privately. */
export interface BatchHost {
  readonly metrics: PipelineMetrics;
  /** The processors of one depth (empty past the last depth). */
  chain(depth: number): readonly ProcessorBase[];
  /** A component failed on an event; true when it was a hard error (the batch must wait). */
  failed(component: ProcessorBase, context: Context, event: unknown, error: unknown): boolean;
  /** Events came out of the last processor of a depth. */
  notConsumed(depth: number, contexts: readonly Context[], count: number): void;
  /** Hands an event to a generator. */
  spawn(generator: Generator, context: Context, event: unknown, depth: number): void;
  /** Resolves true when the pipeline's error is cleared, false when it is stopping instead. */
  whenCleared(): Promise<boolean>;
}

/**
 * Events on their way through one depth of a pipeline. Each processor takes the whole batch in a
 * tight synchronous loop (one call site per processor, timed once per batch) before the next
 * processor runs; the batch compacts in place as events are dropped. It suspends only where it must:
 * on a promise a processor returned (awaited in order) and on a hard error (until the error is
 * cleared, or the pipeline stops and the rest is failed back to the source).
 */
export class Batch {
  readonly #host: BatchHost;
  readonly #depth: number;
  readonly #events: unknown[];
  readonly #contexts: Context[];
  /** Events in the batch. */
  #n: number;
  /** Processor index within the depth. */
  #j = 0;
  /** Next event to hand to the processor. */
  #r = 0;
  /** Where the processor's next output goes (≤ #r). */
  #w = 0;
  #startedAt = performance.now();

  constructor(host: BatchHost, depth: number, events: unknown[], contexts: Context[], start = 0) {
    this.#host = host;
    this.#depth = depth;
    this.#events = events;
    this.#contexts = contexts;
    this.#n = events.length;
    this.#j = start;
  }

  /** Runs to the end, or returns the promise of the rest when it had to suspend. */
  run(): Promise<void> | undefined {
    const chain = this.#host.chain(this.#depth);
    while (this.#n > 0) {
      const processor = chain[this.#j];
      if (processor === undefined) {
        this.#host.notConsumed(this.#depth, this.#contexts, this.#n);
        return undefined;
      }
      const suspended =
        processor.kind === KIND_SINK
          ? this.#sink(processor as Sink)
          : processor.kind === KIND_GENERATOR
            ? this.#generator(processor as Generator)
            : this.#processor(processor as Processor);
      if (suspended !== undefined) return suspended;
      const now = performance.now();
      processor.profile.runs += this.#n;
      processor.profile.duration += (now - this.#startedAt) / 1000;
      this.#startedAt = now;
      this.#n = this.#w;
      this.#j++;
      this.#r = 0;
      this.#w = 0;
    }
    return undefined;
  }

  #processor(processor: Processor): Promise<void> | undefined {
    const events = this.#events;
    const contexts = this.#contexts;
    const metrics = this.#host.metrics;
    const n = this.#n;
    let w = this.#w;
    for (let r = this.#r; r < n; r++) {
      const context = contexts[r]!;
      let out: unknown;
      try {
        out = processor.process(context, events[r]);
      } catch (error) {
        this.#w = w;
        const parked = this.#failed(processor, r, error);
        if (parked !== undefined) return parked;
        continue;
      }
      if (out === null || out === undefined) {
        metrics.drop++;
        context[DELIVERY]?.done();
        continue;
      }
      if (out instanceof Promise) {
        this.#w = w;
        return this.#await(processor, r, out);
      }
      events[w] = out;
      contexts[w] = context;
      w++;
    }
    this.#w = w;
    return undefined;
  }

  #sink(sink: Sink): Promise<void> | undefined {
    const events = this.#events;
    const contexts = this.#contexts;
    const metrics = this.#host.metrics;
    const confirms = sink.confirmsDelivery;
    const n = this.#n;
    for (let r = this.#r; r < n; r++) {
      const context = contexts[r]!;
      let out: unknown;
      try {
        out = sink.process(context, events[r]);
      } catch (error) {
        const parked = this.#failed(sink, r, error);
        if (parked !== undefined) return parked;
        continue;
      }
      if (out instanceof Promise) return this.#await(sink, r, out);
      metrics.out++;
      if (!confirms) context[DELIVERY]?.done();
    }
    return undefined;
  }

  #generator(generator: Generator): Promise<void> | undefined {
    const events = this.#events;
    const contexts = this.#contexts;
    const next = this.#depth + 1;
    for (let r = this.#r; r < this.#n; r++) this.#host.spawn(generator, contexts[r]!, events[r], next);
    return undefined;
  }

  /** A processor returned a promise for event `r`: take its result, then go on with event r + 1. */
  async #await(processor: ProcessorBase, r: number, pending: Promise<unknown>): Promise<void> {
    const context = this.#contexts[r]!;
    let out: unknown;
    try {
      out = await pending;
    } catch (error) {
      const parked = this.#failed(processor, r, error);
      if (parked !== undefined) return parked;
      return this.run();
    }
    this.#r = r + 1;
    if (processor.kind === KIND_SINK) {
      this.#host.metrics.out++;
      if (!(processor as Sink).confirmsDelivery) context[DELIVERY]?.done();
    } else if (out === null || out === undefined) {
      this.#host.metrics.drop++;
      context[DELIVERY]?.done();
    } else {
      this.#events[this.#w] = out;
      this.#contexts[this.#w] = context;
      this.#w++;
    }
    return this.run();
  }

  /**
   * Event `r` failed in `component`: it is dropped. On a hard error the events that already passed
   * `component` go on to the end of the chain, as they would have one at a time, and the rest waits
   * for the error to be cleared.
   */
  #failed(component: ProcessorBase, r: number, error: unknown): Promise<void> | undefined {
    const context = this.#contexts[r]!;
    this.#r = r + 1;
    this.#host.metrics.drop++;
    if (!this.#host.failed(component, context, this.#events[r], error)) return undefined;
    const passed = this.#w;
    let ahead: Promise<void> | undefined;
    if (passed > 0) {
      const front = new Batch(this.#host, this.#depth, this.#events.splice(0, passed), this.#contexts.splice(0, passed), this.#j + 1);
      this.#n -= passed;
      this.#r -= passed;
      this.#w = 0;
      ahead = front.run();
    }
    const parked = this.#host.whenCleared().then((cleared) => (cleared ? this.run() : this.#abandon()));
    return ahead === undefined ? parked : Promise.all([ahead, parked]).then(() => undefined);
  }

  /** The pipeline stops while the batch waits on an error: every event still in it goes back to its source as failed. */
  #abandon(): void {
    const reason = new StoppedError("Pipeline");
    let count = 0;
    for (let i = 0; i < this.#w; i++, count++) this.#contexts[i]![DELIVERY]?.fail(reason);
    for (let i = this.#r; i < this.#n; i++, count++) this.#contexts[i]![DELIVERY]?.fail(reason);
    this.#host.metrics.drop += count;
    this.#n = 0;
  }
}

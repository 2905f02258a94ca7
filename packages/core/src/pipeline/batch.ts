import { KIND_GENERATOR, KIND_SINK, type ProcessorBase } from "../component/processor-base.js";
import type { Processor } from "../component/processor.js";
import type { Sink } from "../component/sink.js";
import { DONE, PENDING, loopsFor, type Cursor } from "./loops.js";
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
 * tight synchronous loop (its class's own copy of the loop, timed once per batch) before the next
 * processor runs; the batch compacts in place as events are dropped. It suspends only where it must:
 * on a promise a processor returned (awaited in order) and on a hard error (until the error is
 * cleared, or the pipeline stops and the rest is failed back to the source).
 */
export class Batch {
  readonly #host: BatchHost;
  readonly #depth: number;
  readonly #c: Cursor;
  /** Processor index within the depth. */
  #j: number;
  #startedAt = performance.now();

  constructor(host: BatchHost, depth: number, events: unknown[], contexts: Context[], start = 0) {
    this.#host = host;
    this.#depth = depth;
    this.#c = { events, contexts, n: events.length, r: 0, w: 0, metrics: host.metrics, thrown: undefined, pending: undefined };
    this.#j = start;
  }

  /** Runs to the end, or returns the promise of the rest when it had to suspend. */
  run(): Promise<void> | undefined {
    const chain = this.#host.chain(this.#depth);
    const c = this.#c;
    while (c.n > 0) {
      const processor = chain[this.#j];
      if (processor === undefined) {
        this.#host.notConsumed(this.#depth, c.contexts, c.n);
        return undefined;
      }
      if (processor.kind === KIND_GENERATOR) {
        this.#generator(processor as Generator);
      } else {
        const status =
          processor.kind === KIND_SINK ? loopsFor(processor).sink(processor as Sink, c) : loopsFor(processor).processor(processor as Processor, c);
        if (status === PENDING) {
          const pending = c.pending!;
          c.pending = undefined;
          return this.#await(processor, c.r, pending);
        }
        if (status !== DONE) {
          const thrown = c.thrown;
          c.thrown = undefined;
          const parked = this.#failed(processor, c.r, thrown);
          if (parked !== undefined) return parked;
          continue; // the same processor goes on with the next event
        }
      }
      const now = performance.now();
      processor.profile.runs += c.n;
      processor.profile.duration += (now - this.#startedAt) / 1000;
      this.#startedAt = now;
      c.n = c.w;
      this.#j++;
      c.r = 0;
      c.w = 0;
    }
    return undefined;
  }

  #generator(generator: Generator): void {
    const c = this.#c;
    const next = this.#depth + 1;
    for (let r = c.r; r < c.n; r++) this.#host.spawn(generator, c.contexts[r]!, c.events[r], next);
    c.r = c.n;
  }

  /** A processor returned a promise for event `r`: take its result, then go on with event r + 1. */
  async #await(processor: ProcessorBase, r: number, pending: Promise<unknown>): Promise<void> {
    const c = this.#c;
    const context = c.contexts[r]!;
    let out: unknown;
    try {
      out = await pending;
    } catch (error) {
      const parked = this.#failed(processor, r, error);
      if (parked !== undefined) return parked;
      return this.run();
    }
    c.r = r + 1;
    if (processor.kind === KIND_SINK) {
      c.metrics.out++;
      if (!(processor as Sink).confirmsDelivery) context[DELIVERY]?.done();
    } else if (out === null || out === undefined) {
      c.metrics.drop++;
      context[DELIVERY]?.done();
    } else {
      c.events[c.w] = out;
      c.contexts[c.w] = context;
      c.w++;
    }
    return this.run();
  }

  /**
   * Event `r` failed in `component`: it is dropped. On a hard error the events that already passed
   * `component` go on to the end of the chain, as they would have one at a time, and the rest waits
   * for the error to be cleared.
   */
  #failed(component: ProcessorBase, r: number, error: unknown): Promise<void> | undefined {
    const c = this.#c;
    const context = c.contexts[r]!;
    c.r = r + 1;
    c.metrics.drop++;
    if (!this.#host.failed(component, context, c.events[r], error)) return undefined;
    const passed = c.w;
    let ahead: Promise<void> | undefined;
    if (passed > 0) {
      const front = new Batch(this.#host, this.#depth, c.events.splice(0, passed), c.contexts.splice(0, passed), this.#j + 1);
      c.n -= passed;
      c.r -= passed;
      c.w = 0;
      ahead = front.run();
    }
    const parked = this.#host.whenCleared().then((cleared) => (cleared ? this.run() : this.#abandon()));
    return ahead === undefined ? parked : Promise.all([ahead, parked]).then(() => undefined);
  }

  /** The pipeline stops while the batch waits on an error: every event still in it goes back to its source as failed. */
  #abandon(): void {
    const c = this.#c;
    const reason = new StoppedError("Pipeline");
    let count = 0;
    for (let i = 0; i < c.w; i++, count++) c.contexts[i]![DELIVERY]?.fail(reason);
    for (let i = c.r; i < c.n; i++, count++) c.contexts[i]![DELIVERY]?.fail(reason);
    c.metrics.drop += count;
    c.n = 0;
  }
}

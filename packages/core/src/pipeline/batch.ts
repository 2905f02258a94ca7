import { KIND_SINK, type ProcessorBase } from "../component/processor-base.js";
import type { Sink } from "../component/sink.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import { StoppedError } from "../errors.js";
import { DONE, PENDING, type ChainLoops, type Cursor } from "./fused.js";
import type { PipelineMetrics } from "./metrics.js";

/** What a batch needs from its pipeline; the pipeline hands it over privately. */
export interface BatchHost {
  readonly metrics: PipelineMetrics;
  /** The processors of one depth (empty past the last depth). */
  chain(depth: number): readonly ProcessorBase[];
  /** The compiled loops of that depth's chain. */
  loops(depth: number): ChainLoops;
  /** True for the batches whose calls are timed one by one (the profile's sample). */
  sample(): boolean;
  /** A component failed on an event; true when it was a hard error (the batch must wait). */
  failed(component: ProcessorBase, context: Context, event: unknown, error: unknown): boolean;
  /** Events came out of the last processor of a depth. */
  notConsumed(depth: number, contexts: readonly Context[], count: number): void;
  /** Resolves true when the pipeline's error is cleared, false when it is stopping instead. */
  whenCleared(): Promise<boolean>;
}

/** Seconds per call of each component, from the last timed batch: what untimed batches add to `profile.duration`. */
const secondsPerRun = new WeakMap<ProcessorBase, number>();

/**
 * Events on their way through one depth of a pipeline: the chain's compiled loop takes each event
 * through every component, synchronously, before the next (see `fused.ts`). The batch suspends only
 * where it must: on a promise a component returned (awaited, then that event goes on and the rest
 * follow in order) and on a hard error (until the error is cleared, or the pipeline stops and the
 * rest is failed back to the source). It keeps the chain it started with, should the pipeline's
 * processors change meanwhile.
 */
export class Batch {
  readonly #host: BatchHost;
  readonly #depth: number;
  readonly #chain: readonly ProcessorBase[];
  readonly #loop: ChainLoops["run"];
  readonly #c: Cursor;

  /** `contexts` undefined: each event gets an empty context as it enters the chain. */
  constructor(host: BatchHost, depth: number, events: readonly unknown[], contexts: readonly Context[] | undefined) {
    this.#host = host;
    this.#depth = depth;
    this.#chain = host.chain(depth);
    const loops = host.loops(depth);
    const timed = host.sample();
    this.#loop = timed ? loops.timed : loops.run;
    const k = this.#chain.length;
    this.#c = {
      events,
      contexts,
      n: events.length,
      r: 0,
      s: 0,
      e: undefined,
      ctx: undefined,
      // oxlint-disable-next-line no-new-array -- one slot per component, filled below
      runs: new Array<number>(k).fill(0),
      // oxlint-disable-next-line no-new-array -- as runs
      ms: timed ? new Array<number>(k).fill(0) : undefined,
      unconsumed: undefined,
      metrics: host.metrics,
      thrown: undefined,
      pending: undefined,
    };
  }

  /** Runs to the end, or returns the promise of the rest when it had to suspend. */
  run(): Promise<void> | undefined {
    const c = this.#c;
    for (;;) {
      const status = this.#loop(c);
      this.#account();
      if (status === DONE) return undefined;
      const component = this.#chain[c.s]!;
      if (status === PENDING) {
        const pending = c.pending!;
        c.pending = undefined;
        return this.#await(component, pending);
      }
      const thrown = c.thrown;
      c.thrown = undefined;
      const parked = this.#failed(component, thrown);
      if (parked !== undefined) return parked;
    }
  }

  /** Adds the calls the loop made to each component's profile, and reports the events no sink took. */
  #account(): void {
    const c = this.#c;
    const runs = c.runs;
    const ms = c.ms;
    for (let j = 0; j < runs.length; j++) {
      const count = runs[j]!;
      if (count === 0) continue;
      runs[j] = 0;
      const component = this.#chain[j]!;
      component.profile.runs += count;
      if (ms === undefined) {
        component.profile.duration += count * (secondsPerRun.get(component) ?? 0);
      } else {
        const seconds = ms[j]! / 1000;
        ms[j] = 0;
        component.profile.duration += seconds;
        secondsPerRun.set(component, seconds / count);
      }
    }
    const unconsumed = c.unconsumed;
    if (unconsumed !== undefined) {
      c.unconsumed = undefined;
      this.#host.notConsumed(this.#depth, unconsumed, unconsumed.length);
    }
  }

  /** Component `component` returned a promise for the event at the cursor: take its result, then go on. */
  async #await(component: ProcessorBase, pending: Promise<unknown>): Promise<void> {
    const c = this.#c;
    let out: unknown;
    try {
      out = await pending;
    } catch (error) {
      const parked = this.#failed(component, error);
      if (parked !== undefined) return parked;
      return this.run();
    }
    const context = c.ctx!;
    if (component.kind === KIND_SINK) {
      c.metrics.out++;
      if (!(component as Sink).confirmsDelivery) context[DELIVERY]?.done();
      this.#next();
    } else if (out === null || out === undefined) {
      c.metrics.drop++;
      context[DELIVERY]?.done();
      this.#next();
    } else {
      c.e = out;
      c.s++;
    }
    return this.run();
  }

  /** The event at the cursor is done with; the loop goes on with the next one. */
  #next(): void {
    const c = this.#c;
    c.r++;
    c.s = 0;
    c.e = undefined;
    c.ctx = undefined;
  }

  /**
   * The event at the cursor failed in `component`: it is dropped. On a hard error the rest of the
   * batch (events that have not entered the chain yet) waits for the error to be cleared.
   */
  #failed(component: ProcessorBase, error: unknown): Promise<void> | undefined {
    const c = this.#c;
    const context = c.ctx!;
    const event = c.e;
    this.#next();
    c.metrics.drop++;
    if (!this.#host.failed(component, context, event, error)) return undefined;
    return this.#host.whenCleared().then((cleared) => (cleared ? this.run() : this.#abandon()));
  }

  /** The pipeline stops while the batch waits on an error: every event still in it goes back to its source as failed. */
  #abandon(): void {
    const c = this.#c;
    const reason = new StoppedError("Pipeline");
    const contexts = c.contexts;
    if (contexts !== undefined) for (let i = c.r; i < c.n; i++) contexts[i]![DELIVERY]?.fail(reason);
    c.metrics.drop += c.n - c.r;
    c.r = c.n;
  }
}

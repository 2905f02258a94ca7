import type { Processor } from "../component/processor.js";
import type { Sink } from "../component/sink.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import type { PipelineMetrics } from "./metrics.js";

/** Where a batch stands; the loops read and advance it, so the batch can go on where a loop stopped. */
export interface Cursor {
  events: unknown[];
  contexts: Context[];
  /** Events in the batch. */
  n: number;
  /** Next event to hand to the processor. */
  r: number;
  /** Where the processor's next output goes (≤ r). */
  w: number;
  readonly metrics: PipelineMetrics;
  /** What event `r` threw, when a loop returns THREW. */
  thrown: unknown;
  /** The promise event `r` gave, when a loop returns PENDING. */
  pending: Promise<unknown> | undefined;
}

/** 0: the batch went through; 1: event `r` threw; 2: event `r` gave a promise. */
export type LoopStatus = 0 | 1 | 2;
export const DONE = 0;
export const THREW = 1;
export const PENDING = 2;

export interface Loops {
  /** Hands events r..n to a processor, compacting what it returns into 0..w. */
  processor(processor: Processor, c: Cursor): LoopStatus;
  /** Hands events r..n to a sink, confirming deliveries unless the sink does. */
  sink(sink: Sink, c: Cursor): LoopStatus;
}

// The loops are written once, here, and copied per component class below: V8 optimizes a call
// site for the classes it has seen, and one loop shared by every processor of every pipeline sees
// them all, so it can inline none (measured: a chain of five trivial processors runs about three
// times faster with a copy per class). Inside, only the parameters and literals are in scope.
function makeLoops(delivery: typeof DELIVERY): Loops {
  return {
    processor(processor, c) {
      const events = c.events;
      const contexts = c.contexts;
      const n = c.n;
      let w = c.w;
      for (let r = c.r; r < n; r++) {
        const context = contexts[r]!;
        let out: unknown;
        try {
          out = processor.process(context, events[r]);
        } catch (error) {
          c.w = w;
          c.r = r;
          c.thrown = error;
          return 1;
        }
        if (out === null || out === undefined) {
          c.metrics.drop++;
          context[delivery]?.done();
          continue;
        }
        if (out instanceof Promise) {
          c.w = w;
          c.r = r;
          c.pending = out;
          return 2;
        }
        events[w] = out;
        contexts[w] = context;
        w++;
      }
      c.w = w;
      c.r = n;
      return 0;
    },
    sink(sink, c) {
      const events = c.events;
      const contexts = c.contexts;
      const n = c.n;
      const confirms = sink.confirmsDelivery;
      for (let r = c.r; r < n; r++) {
        const context = contexts[r]!;
        let out: unknown;
        try {
          out = sink.process(context, events[r]);
        } catch (error) {
          c.r = r;
          c.thrown = error;
          return 1;
        }
        if (out instanceof Promise) {
          c.r = r;
          c.pending = out;
          return 2;
        }
        c.metrics.out++;
        if (!confirms) context[delivery]?.done();
      }
      c.r = n;
      return 0;
    },
  };
}

const SOURCE = `return (${makeLoops.toString()})`;
const byClass = new WeakMap<object, Loops>();

/** The loops for a component's class (its own copy, made on first use). */
export function loopsFor(component: object): Loops {
  const kind = component.constructor;
  let loops = byClass.get(kind);
  if (loops === undefined) {
    // oxlint-disable-next-line no-new-func -- a copy of makeLoops above, see there; no outside text
    loops = (new Function(SOURCE)() as typeof makeLoops)(DELIVERY);
    byClass.set(kind, loops);
  }
  return loops;
}

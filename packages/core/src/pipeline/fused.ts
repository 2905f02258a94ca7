import { KIND_GENERATOR, KIND_SINK, type ProcessorBase } from "../component/processor-base.js";
import type { Generator } from "../component/generator.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import type { PipelineMetrics } from "./metrics.js";

/** Where a batch stands; the chain's loop reads and advances it, so the batch can go on where the loop stopped. */
export interface Cursor {
  readonly events: readonly unknown[];
  /** The source's contexts; undefined: each event gets an empty one as it enters the chain. */
  readonly contexts: readonly Context[] | undefined;
  /** Events in the batch. */
  readonly n: number;
  /** The event the loop is at. */
  r: number;
  /** The component event `r` goes to next (0: it has not entered the chain). Past 0, `e` and `ctx` hold it. */
  s: number;
  e: unknown;
  ctx: Context | undefined;
  /** Events handed to each component, not yet added to its profile. */
  readonly runs: number[];
  /** Milliseconds spent in each component, when the batch is timed. */
  readonly ms: number[] | undefined;
  /** Contexts of the events that came out of a chain with no sink or generator at its end. */
  unconsumed: Context[] | undefined;
  readonly metrics: PipelineMetrics;
  /** What component `s` threw on event `r`, when the loop returns THREW. */
  thrown: unknown;
  /** The promise component `s` gave for event `r`, when the loop returns PENDING. */
  pending: Promise<unknown> | undefined;
}

/** 0: the batch went through; 1: component `s` threw on event `r`; 2: it gave a promise for it. */
export type LoopStatus = 0 | 1 | 2;
export const DONE = 0;
export const THREW = 1;
export const PENDING = 2;

/** The loop of one chain: every event of the batch through every component, one event after the other. */
export type ChainLoop = (c: Cursor) => LoopStatus;

/** Hands an event to a generator (the pipeline's spawn). */
export type Spawn = (generator: Generator, context: Context, event: unknown, depth: number) => void;

/** A chain's loop, and the same loop timing each call (for the profile; a few batches run it). */
export interface ChainLoops {
  readonly run: ChainLoop;
  readonly timed: ChainLoop;
}

/**
 * Writes the loop of one depth's chain as code for that chain: one pass over the batch, each event
 * going through every component before the next one starts, as BSPump runs them. Each component has
 * its own call site, in code of its own, so V8 sees one class there and can inline its `process()`:
 * a loop shared by every component sees them all and inlines none (measured on W2's five trivial
 * processors: 0.23× of a plain loop with a shared loop per component, 0.65× fused). The code is made
 * from the chain's length and kinds only.
 */
export function chainLoops(chain: readonly ProcessorBase[], depth: number, spawn: Spawn): ChainLoops {
  return { run: compile(chain, depth, spawn, false), timed: compile(chain, depth, spawn, true) };
}

function compile(chain: readonly ProcessorBase[], depth: number, spawn: Spawn, timed: boolean): ChainLoop {
  const last = chain.at(-1);
  const terminal = last?.kind === KIND_SINK ? "sink" : last?.kind === KIND_GENERATOR ? "generator" : "none";
  const count = chain.length;
  const k = terminal === "none" ? count : count - 1;
  const ids = Array.from({ length: count }, (_, j) => j);

  // Runs per component without a counter per call: the events that entered the chain, less those
  // that ended before component j (dropped, threw, gave a promise: `d<j>`, counted on those paths only).
  const flushRuns = ["let passed = entered;", ...ids.map((j) => `runs[${j}] += passed; passed -= d${j};`)].join(" ");
  const flush = `${flushRuns} metrics.drop += drop; metrics.out += out_;`;
  const exit = (status: number, what: string): string => `c.r = r; c.s = s; c.e = e; c.ctx = ctx; ${what} ${flush} return ${status};`;
  // timed: one clock read per call, each component charged from the previous read to its own
  const call = (j: number): string => (timed ? `out = p${j}.process(ctx, e); t1 = now(); ms[${j}] += t1 - t0; t0 = t1;` : `out = p${j}.process(ctx, e);`);

  /**
   * Component j's code. Fresh: the hot path, for events entering at component 0. Resume: one event
   * going on at the component after the one whose promise it waited for (counted as it goes).
   */
  const step = (j: number, fresh: boolean): string[] => {
    const skip = fresh ? "continue;" : "break resume;";
    const ended = fresh ? `d${j}++; ` : "";
    const counted = fresh ? "" : ` runs[${j}]++;`;
    if (j < k) {
      return [
        `s = ${j};${counted}`,
        call(j),
        `if (out === null || out === undefined) { ${ended}drop++; ctx[delivery]?.done(); ${skip} }`,
        `if (out instanceof Promise) { ${ended}${exit(PENDING, "c.pending = out;")} }`,
        "e = out;",
      ];
    }
    if (terminal === "sink") {
      return [`s = ${k};${counted}`, call(k), `if (out instanceof Promise) { ${ended}${exit(PENDING, "c.pending = out;")} }`, "out_++;", "if (!confirms) ctx[delivery]?.done();"];
    }
    if (terminal === "generator") return [`s = ${k};${counted}`, `spawn(p${k}, ctx, e, ${depth + 1});`];
    return ["(c.unconsumed ??= []).push(ctx);"];
  };
  const positions = terminal === "none" ? [...ids, k] : ids;
  // a throw on the hot path ends the event's pass at component s
  const threwFresh = `switch (s) { ${ids.map((j) => `case ${j}: d${j}++; break;`).join(" ")} }`;

  const lines: string[] = [];
  for (let j = 0; j < count; j++) lines.push(`const p${j} = chain[${j}];`);
  if (terminal === "sink") lines.push(`const confirms = p${k}.confirmsDelivery;`);
  lines.push(
    "return function loop(c) {",
    "  const events = c.events, contexts = c.contexts, n = c.n, metrics = c.metrics, runs = c.runs, ms = c.ms;",
    `  let r = c.r, s = c.s, e, ctx, out, drop = 0, out_ = 0, entered = 0, t1 = 0${ids.map((j) => `, d${j} = 0`).join("")};`,
    `  let t0 = ${timed ? "now()" : "0"};`,
    "  if (s !== 0) {",
    "    e = c.e; ctx = c.ctx;",
    "    resume: try {",
    "      switch (s) {",
    // falls through from the component it goes on at to the end of the chain
    ...positions.filter((j) => j > 0).flatMap((j) => [`        case ${j}:`, ...step(j, false).map((line) => `          ${line}`)]),
    "      }",
    "    } catch (error) {",
    `      ${exit(THREW, "c.thrown = error;")}`,
    "    }",
    "    r++;",
    "  }",
    "  for (; r < n; r++) {",
    "    e = events[r];",
    "    ctx = contexts === undefined ? {} : contexts[r];",
    "    entered++;",
    "    try {",
    ...positions.flatMap((j) => step(j, true)).map((line) => `      ${line}`),
    "    } catch (error) {",
    `      ${threwFresh} ${exit(THREW, "c.thrown = error;")}`,
    "    }",
    "  }",
    "  s = 0;",
    `  ${exit(DONE, "c.e = undefined; c.ctx = undefined;")}`,
    "};",
  );
  // oxlint-disable-next-line no-new-func -- generated from the chain's length and kinds only; no outside text
  const make = new Function("chain", "spawn", "delivery", "now", lines.join("\n")) as (
    chain: readonly ProcessorBase[],
    spawn: Spawn,
    delivery: typeof DELIVERY,
    now: () => number,
  ) => ChainLoop;
  return make(chain, spawn, DELIVERY, performance.now.bind(performance));
}

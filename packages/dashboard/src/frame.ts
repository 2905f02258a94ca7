import type { PipelineCounters } from "@pump/core";

/**
 * What the dashboard's stream sends: one `DashboardFrame` per sample (about once a second), as the
 * data of a Server-Sent Event named `frame`. The first frame a client gets is `full` and carries the
 * rate history; later ones carry only the newest rates, which the page appends.
 */

/** The version of the frame's shape; the page refuses frames of another version. */
export const FRAME_VERSION = 1;

export type PipelineState = "ready" | "throttled" | "error" | "stopped";

export interface PumpView {
  /** `[general] name`, else the application's class name. */
  name: string;
  coreVersion: string;
  node: string;
  pid: number;
  /** Epoch ms when the dashboard was mounted (about when the pump started). */
  startedAt: number;
  /** Resident set size and JS heap in use, bytes. */
  rss: number;
  heapUsed: number;
  /** Event-loop delay over the last sample period, ms (p99 and max); null before the pump runs. */
  loopDelay: { p99: number; max: number } | null;
  /** True when `[web] token` is set: operator actions (clear error) need it. */
  tokenRequired: boolean;
  /** Seconds of history the sparklines cover. */
  historySeconds: number;
}

/** Who holds a pipeline: the pipeline it routes to, a queue (a source), a sink or processor, or something else. */
export interface ThrottleView {
  id: string;
  kind: "pipeline" | "source" | "processor" | "other";
}

/** Core's pipeline counters, totals since start: in, out, drop, warning, error, routedErrors. */
export type CountersView = PipelineCounters;

export interface RatesView {
  in: number;
  out: number;
  drop: number;
}

export interface SourceView {
  id: string;
  class: string;
  /** Pipelines routing into this source. */
  feeders: string[];
  /** Events waiting in its queue (InternalSource and the like), when it has one. */
  queue?: number | undefined;
  backPressure?: boolean | undefined;
}

export interface ProcessorView {
  id: string;
  class: string;
  kind: "processor" | "generator" | "sink";
  /** Events handed to it, and seconds spent in it, since start. */
  runs: number;
  seconds: number;
}

export interface ErrorView {
  component: string | null;
  name: string;
  code: string | null;
  message: string;
  stack: string | null;
  /** Epoch ms. */
  at: number;
  /** The event and its context as bounded text (never HTML). */
  event: string;
  context: string;
}

export interface LogView {
  /** Epoch ms. */
  time: number;
  level: string;
  message: string;
  component: string | null;
  error: string | null;
}

export interface DeliveryView {
  /** Events waiting in the pipeline's source queues. */
  queued: number;
  /** Asynchronous work of the pipeline not settled yet (generators, async processors' futures). */
  pending: number;
  /** in − out − drop: events inside the chain now. Null for a pipeline with a generator (one event in, many out). */
  inFlight: number | null;
  /** Failed events sent to the error route, since start. */
  routedErrors: number;
  /** Events lost to hard errors, since start (each stopped the pipeline). */
  hardErrors: number;
}

export interface PipelineView {
  id: string;
  class: string;
  state: PipelineState;
  throttles: ThrottleView[];
  counters: CountersView;
  /** Per second over the last sample period. */
  rates: RatesView;
  /** Times it stopped being ready since the dashboard was mounted, and since when it is not ready (epoch ms, null while ready). */
  notReady: { count: number; since: number | null };
  /** Share of time it was ready since it was created, 0..1. */
  readyDutyCycle: number;
  sources: SourceView[];
  /** The processors by depth: a generator ends a depth. */
  depths: ProcessorView[][];
  error: ErrorView | null;
  /** Its latest warnings and errors, oldest first. */
  log: LogView[];
  delivery: DeliveryView;
}

/** Events flow `from` → `to`: routed into a source of `to` (`via`), or a `link` (the feeder waits while `to` is throttled). */
export interface EdgeView {
  from: string;
  to: string;
  kind: "route" | "link";
  via: string | null;
}

export interface LookupView {
  id: string;
  class: string;
  loaded: boolean;
  /** Entries, when the lookup can tell (mapping and dictionary lookups; cached keys of an async lookup). */
  size: number | null;
  /** Epoch ms of the last successful load and of the last change. */
  updatedAt: number | null;
  changedAt: number | null;
  master: string | null;
}

export interface ConnectionView {
  id: string;
  class: string;
  /** What the connection tells in `restGet()` besides its id and class (state, when the connector reports one). */
  details: Record<string, string>;
}

/** One sample of a pipeline's rates, for the sparklines. */
export interface HistoryView {
  /** Epoch ms of each sample. */
  t: number[];
  in: number[];
  out: number[];
}

export interface DashboardFrame {
  v: typeof FRAME_VERSION;
  /** Increases by one per sample. */
  seq: number;
  /** Epoch ms. */
  at: number;
  /** True in a client's first frame (and after it missed frames): it carries `history`. */
  full: boolean;
  /** True when the frame took a new sample: its rates are the next point of each sparkline. */
  point: boolean;
  pump: PumpView;
  pipelines: PipelineView[];
  edges: EdgeView[];
  lookups: LookupView[];
  connections: ConnectionView[];
  /** In full frames: each pipeline's rates over the last `historySeconds`. */
  history?: Record<string, HistoryView> | undefined;
}

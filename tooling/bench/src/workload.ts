// The contract between the harness and a workload. A workload is a registry entry: it names its
// variants (one of them the baseline), prepares inputs once in the parent, runs one variant per
// child process and says what its targets are.

/** What a variant's run reports; the child adds time, CPU and memory around it. */
export interface RunOutput {
  /** Events that went all the way through. */
  events: number;
  /** Input bytes processed (for MB/s), when the workload has a byte size. */
  bytes?: number;
  /** A value both variants must agree on (an output hash, a checksum), checked by the parent. */
  check?: string;
  /** Workload-specific figures (throttled time, RSS timeline...). */
  extra?: Record<string, unknown>;
  /** Runs after the clock stopped (verification such as hashing an output file); may set `check`. */
  after?: () => Promise<{ check?: string; extra?: Record<string, unknown> } | void>;
}

/** Parameters a workload's `prepare()` hands to every child (JSON). */
export type Params = Record<string, unknown>;

/** One measured run of one variant, as the child reports it. */
export interface RunResult {
  workload: string;
  variant: string;
  round: number;
  events: number;
  bytes: number | null;
  seconds: number;
  eventsPerSecond: number;
  mbPerSecond: number | null;
  cpuSeconds: number;
  cpuSecondsPerMillion: number;
  peakRssMiB: number;
  /** JS heap bytes allocated per event (from V8's GC reports; includes the harness's share, small). */
  allocatedBytesPerEvent: number;
  /** Memory over time: [seconds since start, RSS MiB, V8 heap used MiB]. */
  rssTimeline: [number, number, number][];
  check: string | null;
  extra: Record<string, unknown>;
}

/** A line of the table: one variant, summarised over its rounds (the median run). */
export interface Row {
  workload: string;
  variant: string;
  label: string;
  baseline: boolean;
  rounds: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  mbPerSecond: number | null;
  cpuSecondsPerMillion: number;
  peakRssMiB: number;
  allocatedBytesPerEvent: number;
  /** Median over rounds of (this variant's events/s ÷ the baseline's events/s in the same round). */
  ratio: number | null;
  target: string;
  status: "PASS" | "FAIL" | "INFO";
  notes: string[];
  extra: Record<string, unknown>;
}

export interface Verdict {
  target: string;
  pass: boolean | null;
  notes?: string[];
}

export interface Workload {
  id: string;
  title: string;
  /** One paragraph: what it measures. */
  description: string;
  /** An environment variable the workload needs (a server URL); without it the workload is skipped. */
  requires?: string;
  /** Registered but not written yet: the harness skips it with this message. */
  todo?: string;
  /** Variant ids in the order they alternate within a round; `baseline` is one of them. */
  variants: string[];
  baseline: string;
  /** A human label per variant id. */
  labels?: Record<string, string>;
  /** Events at BENCH_SCALE=1. */
  events: number;
  /** Node options every child of the workload runs with, baseline and pump alike (a heap configuration). */
  nodeArgs?: string[];
  /** Runs once in the parent before any child (generates input files...). */
  prepare?: (events: number, dir: string) => Promise<Params>;
  /** Runs once in the parent after the last run (removes what `prepare()` made on a server). */
  cleanup?: (params: Params) => Promise<void>;
  /** Runs one variant in a child process; the clock runs around it. */
  run: (variant: string, params: Params) => Promise<RunOutput>;
  /** The target of a non-baseline variant, judged on its row (ratio already computed). */
  judge?: (row: Row, rows: Row[]) => Verdict;
}

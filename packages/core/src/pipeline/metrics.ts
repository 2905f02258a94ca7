import type { ProcessorProfile } from "../component/processor-base.js";

/** The counters BSPump keeps per pipeline (`bspump.pipeline`), as totals since start. */
export interface PipelineCounters {
  /** Events that entered from sources. */
  in: number;
  /** Events taken by a sink. */
  out: number;
  /** Events a processor dropped (returned nothing), or lost to an error. */
  drop: number;
  /** Soft errors: events `handleError` allowed to drop. */
  warning: number;
  /** Hard errors: the pipeline stopped being ready. */
  error: number;
  /** Failed events sent to the error route instead of stopping the pipeline. */
  routedErrors: number;
}

export interface PipelineMetricsSnapshot extends PipelineCounters {
  /** Per second over the last tick period (`bspump.pipeline.eps`). */
  eps: PipelineCounters;
  /** warning / in and error / in (`bspump.pipeline.gauge`). */
  warningRatio: number;
  errorRatio: number;
  /** Share of time the pipeline was ready since start, 0..1 (`bspump.pipeline.dutycycle`). */
  readyDutyCycle: number;
  /** Per processor id: calls and seconds spent (`bspump.pipeline.profiler`). */
  profiler: Record<string, ProcessorProfile>;
}

const ZERO: PipelineCounters = { in: 0, out: 0, drop: 0, warning: 0, error: 0, routedErrors: 0 };

/** Plain number fields the hot path increments; rates and ratios are computed when read. */
export class PipelineMetrics implements PipelineCounters {
  in = 0;
  out = 0;
  drop = 0;
  warning = 0;
  error = 0;
  routedErrors = 0;
  #eps: PipelineCounters = { ...ZERO };
  #lastTick: { at: number; counters: PipelineCounters } = { at: performance.now(), counters: { ...ZERO } };
  #readyTime = 0;
  #notReadyTime = 0;
  #readySince: number | undefined;
  #notReadySince: number | undefined = performance.now();

  /** Records a change of readiness, for the duty cycle. */
  ready(isReady: boolean, now = performance.now()): void {
    if (isReady) {
      if (this.#notReadySince !== undefined) this.#notReadyTime += now - this.#notReadySince;
      this.#notReadySince = undefined;
      this.#readySince ??= now;
    } else {
      if (this.#readySince !== undefined) this.#readyTime += now - this.#readySince;
      this.#readySince = undefined;
      this.#notReadySince ??= now;
    }
  }

  /** Closes a rate period (the application ticks every second). */
  tick(now = performance.now()): void {
    const seconds = (now - this.#lastTick.at) / 1000;
    if (seconds <= 0) return;
    const last = this.#lastTick.counters;
    this.#eps = {
      in: (this.in - last.in) / seconds,
      out: (this.out - last.out) / seconds,
      drop: (this.drop - last.drop) / seconds,
      warning: (this.warning - last.warning) / seconds,
      error: (this.error - last.error) / seconds,
      routedErrors: (this.routedErrors - last.routedErrors) / seconds,
    };
    this.#lastTick = { at: now, counters: this.counters() };
  }

  counters(): PipelineCounters {
    return { in: this.in, out: this.out, drop: this.drop, warning: this.warning, error: this.error, routedErrors: this.routedErrors };
  }

  snapshot(profiles: Iterable<[string, ProcessorProfile]>, now = performance.now()): PipelineMetricsSnapshot {
    const ready = this.#readyTime + (this.#readySince === undefined ? 0 : now - this.#readySince);
    const notReady = this.#notReadyTime + (this.#notReadySince === undefined ? 0 : now - this.#notReadySince);
    const profiler: Record<string, ProcessorProfile> = {};
    for (const [id, profile] of profiles) profiler[id] = { runs: profile.runs, duration: profile.duration };
    return {
      ...this.counters(),
      eps: { ...this.#eps },
      warningRatio: this.in === 0 ? 0 : this.warning / this.in,
      errorRatio: this.in === 0 ? 0 : this.error / this.in,
      readyDutyCycle: ready + notReady === 0 ? 0 : ready / (ready + notReady),
      profiler,
    };
  }
}

import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValue, ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ConfigError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";

export interface AnalyzerOptions extends ComponentOptions {
  /** Run `analyze()` every `analyze_period` seconds (config `analyze_on_clock`; this option wins over `config`). */
  analyzeOnClock?: boolean | undefined;
}

const TICK = "Application.tick!";

/**
 * Component options with constructor arguments folded into the config given in code (an argument
 * set wins over the same key in `config`; the `.conf` section still wins over both).
 */
export function foldOptions(options: ComponentOptions, values: Readonly<Record<string, ConfigValue | undefined>>): ComponentOptions {
  const given: Record<string, ConfigValue> = { ...options.config };
  for (const [key, value] of Object.entries(values)) if (value !== undefined) given[key] = value;
  return { ...options, config: given };
}

/**
 * A processor that watches events without changing them (BSPump's Analyzer): `process()` calls
 * `evaluate(context, event)` when `predicate(context, event)` holds (default: always) and passes every
 * event on, unchanged. `analyze()` looks at what was gathered; with `analyze_on_clock` it runs every
 * `analyze_period` seconds (default 60) of the application clock while the pipeline runs — checked
 * on each "Application.tick!", so the period is in effect rounded up to the tick period (1 s by
 * default), and a run is skipped while the previous (async) one has not finished. Its calls and time
 * are counted in `analyzeProfile`; a failing `analyze()` is logged, and the next period runs again.
 */
export class Analyzer<Event = unknown> extends Processor<Event, Event> {
  static override ConfigDefaults: ConfigValues = {
    analyze_period: 60,
    analyze_on_clock: false,
  };

  readonly analyzeOnClock: boolean;
  readonly analyzePeriod: number;
  /** `analyze()` runs on the clock and seconds spent in them (BSPump profiles them as `analyzer_<Id>`). */
  readonly analyzeProfile = { runs: 0, duration: 0 };
  #nextAt = 0;
  #analyzing = false;
  #ticking = false;
  readonly #onTick = (): void => this.#tick();

  constructor(app: PumpApplication, pipeline: Pipeline, options: AnalyzerOptions = {}) {
    super(app, pipeline, foldOptions(options, { analyze_on_clock: options.analyzeOnClock }));
    this.analyzeOnClock = this.config.getBool("analyze_on_clock");
    this.analyzePeriod = this.config.getSeconds("analyze_period");
    if (this.analyzeOnClock && !(this.analyzePeriod > 0)) {
      throw new ConfigError(`analyze_period must be a positive number of seconds, got ${this.analyzePeriod}`, { section: this.config.section, key: "analyze_period" }, "PUMP_CONFIG_VALUE");
    }
  }

  /** Whether the event is worth evaluating (default: every event). */
  predicate(_context: Context, _event: Event): boolean {
    return true;
  }

  /** Records what the event says into what the analyzer keeps (a matrix, a latch). */
  evaluate(_context: Context, _event: Event): void {}

  /** Looks at what was gathered: typically makes events, alarms or metrics out of it. */
  analyze(): void | Promise<void> {}

  process(context: Context, event: Event): Event {
    if (this.predicate(context, event)) this.evaluate(context, event);
    return event;
  }

  override start(): void | Promise<void> {
    if (this.analyzeOnClock && !this.#ticking) {
      this.#ticking = true;
      this.#nextAt = this.time() + this.analyzePeriod;
      this.app.pubsub.subscribe(TICK, this.#onTick);
    }
  }

  override stop(): void | Promise<void> {
    if (this.#ticking) {
      this.#ticking = false;
      this.app.pubsub.unsubscribe(TICK, this.#onTick);
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), AnalyzeOnClock: this.analyzeOnClock, AnalyzePeriod: this.analyzePeriod, AnalyzeRuns: this.analyzeProfile.runs };
  }

  #tick(): void {
    const now = this.time();
    if (now < this.#nextAt || this.#analyzing) return;
    // The next run is due a whole period after the one that was due, not after this tick: no drift;
    // periods missed (a long analyze, a stalled clock) are skipped, not made up in a burst.
    this.#nextAt += (Math.floor((now - this.#nextAt) / this.analyzePeriod) + 1) * this.analyzePeriod;
    this.#analyze();
  }

  /** Runs analyze() at once; only an analyze() that returns a promise makes the next tick wait for it. */
  #analyze(): void {
    const t0 = performance.now();
    let result: void | Promise<void>;
    try {
      result = this.analyze();
    } catch (error) {
      this.#analyzed(t0, true, error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.#analyzed(t0, false, undefined);
      return;
    }
    this.#analyzing = true;
    result.then(
      () => this.#analyzed(t0, false, undefined),
      (error: unknown) => this.#analyzed(t0, true, error),
    );
  }

  #analyzed(t0: number, failed: boolean, error: unknown): void {
    this.#analyzing = false;
    this.analyzeProfile.runs++;
    this.analyzeProfile.duration += (performance.now() - t0) / 1000;
    if (failed) this.log.error("analyze() failed", { error });
  }
}

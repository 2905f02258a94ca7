import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ConfigError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { Analyzer, type AnalyzerOptions } from "./analyzer.js";
import { compileQuery, type Matcher, type Query } from "./query.js";

/**
 * Which events a latch keeps: `true` all, `false` none, a MongoDB-style query (`{ status: { $gte: 500 } }`:
 * `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $options $not $size $all $and $or $nor`, dotted
 * paths), or a function.
 */
export type LatchQuery<Event> = boolean | Query | ((event: Event, context: Context) => boolean);

export interface LatchOptions<Event> extends AnalyzerOptions {
  /** Default `true`. */
  query?: LatchQuery<Event> | undefined;
  /** Keep the events the query does *not* match instead (BSPump's `inclusive`). */
  inclusive?: boolean | undefined;
}

/**
 * Keeps the last events that pass by (BSPump's LatchAnalyzer): at most `latch_max_size` (config, 50;
 * 0 for no limit; `latch_size` is accepted as another name), the oldest dropped first, filtered by a
 * query — for a REST view of "what is flowing through here", or a test. Events pass on unchanged.
 * `setQuery()` changes the query while running.
 */
export class LatchAnalyzer<Event = unknown> extends Analyzer<Event> {
  static override ConfigDefaults: ConfigValues = { latch_max_size: 50 };

  /** The most events kept; 0 is no limit. */
  readonly maxSize: number;
  readonly inclusive: boolean;
  #match: ((event: Event, context: Context) => boolean) | boolean = true;
  #items: Event[] = [];
  #head = 0;

  constructor(app: PumpApplication, pipeline: Pipeline, options: LatchOptions<Event> = {}) {
    super(app, pipeline, options);
    this.maxSize = this.config.has("latch_size") ? this.config.getInt("latch_size") : this.config.getInt("latch_max_size");
    if (this.maxSize < 0) {
      throw new ConfigError(`the latch size must be 0 (no limit) or more, got ${this.maxSize}`, { section: this.config.section, key: this.config.has("latch_size") ? "latch_size" : "latch_max_size" }, "PUMP_CONFIG_VALUE");
    }
    this.inclusive = options.inclusive ?? false;
    this.setQuery(options.query ?? true);
  }

  /** Replaces the query (an invalid one is a ConfigError, and the old query stays). */
  setQuery(query: LatchQuery<Event>): void {
    if (typeof query === "boolean") {
      this.#match = query;
      return;
    }
    if (typeof query === "function") {
      this.#match = query;
      return;
    }
    const matcher: Matcher = compileQuery(query);
    this.#match = (event) => matcher(event);
  }

  /** The events kept, oldest first (a copy). */
  get latch(): Event[] {
    return this.#items.slice(this.#head);
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  override predicate(context: Context, event: Event): boolean {
    const match = this.#match;
    if (typeof match === "boolean") return match;
    return match(event, context) !== this.inclusive;
  }

  override evaluate(_context: Context, event: Event): void {
    this.#items.push(event);
    if (this.maxSize > 0 && this.#items.length - this.#head > this.maxSize) {
      this.#head++;
      // Drop the dead front in one go once it outweighs what is kept: amortized O(1) per event.
      if (this.#head >= this.maxSize) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), LatchSize: this.size, LatchMaxSize: this.maxSize, Latch: this.latch };
  }
}

import type { PumpApplication } from "../application/application.js";
import { Generator } from "../component/generator.js";
import type { ComponentOptions } from "../component/options.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { DELIVERY, Delivery } from "../delivery/delivery.js";
import { ConfigError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { ListAggregationStrategy, type AggregationStrategy } from "./aggregation-strategy.js";

export interface AggregatorOptions<In, Out> extends ComponentOptions {
  /** How the aggregate is built (BSPump's `aggregation_strategy`); a new ListAggregationStrategy by default. */
  aggregationStrategy?: AggregationStrategy<In, Out> | undefined;
}

const TICK = "Application.tick!";

function settleMembers(members: readonly Delivery<unknown>[], error: unknown): void {
  for (const member of members) {
    if (error === undefined) member.done();
    else member.fail(error);
  }
}

/**
 * Buffers events and sends on one aggregate of them, built by its strategy (the list of
 * `[context, event]` pairs by default), with a new, empty context as BSPump does. It flushes when
 * `completion_size` events are buffered; when `completion_timeout` seconds passed since the last
 * flush, or every `completion_interval` seconds (both checked on each "Application.tick!"; 0 turns
 * them off; they cannot be combined); when `flush()` is called; and when the pipeline stops (in
 * `stop()`, before the sinks after it flush, so nothing buffered is lost).
 *
 * Delivery: a buffered event's delivery stays held while the event waits. The aggregate's context
 * carries a new Delivery (its token: the members' deliveries) that settles every member when the
 * aggregate itself settles: done when a sink took it, failed (with the error) when it failed. So a
 * source commits an event only once the aggregate holding it was delivered.
 *
 * Differences from BSPump: every Aggregator gets its own strategy (BSPump's default argument is
 * one ListAggregationStrategy shared by all); the buffered count is reset by every flush (BSPump
 * resets it only on size flushes, so after a timeout flush it flushes early); timeout and interval
 * fire when reached (>=, BSPump: >), and the interval keeps its cadence while nothing is buffered;
 * a `completion_size` below 1 and combined timeout and interval are ConfigErrors.
 */
export class Aggregator<In = unknown, Out = [Context, In][]> extends Generator<In, Out> {
  static override ConfigDefaults: ConfigValues = { completion_size: 10, completion_timeout: 0, completion_interval: 0 };

  readonly aggregationStrategy: AggregationStrategy<In, Out>;
  readonly completionSize: number;
  /** Seconds; 0 when off. */
  readonly completionTimeout: number;
  /** Seconds; 0 when off. */
  readonly completionInterval: number;
  #size = 0;
  #members: Delivery<unknown>[] = [];
  #lastFlushAt: number;
  #lastIntervalAt: number;
  #ticking = false;
  readonly #onTick = (): void => this.#tick();

  constructor(app: PumpApplication, pipeline: Pipeline, options: AggregatorOptions<In, Out> = {}) {
    super(app, pipeline, options);
    this.aggregationStrategy = options.aggregationStrategy ?? (new ListAggregationStrategy<In>() as unknown as AggregationStrategy<In, Out>);
    const section = this.config.section;
    this.completionSize = this.config.getInt("completion_size");
    if (this.completionSize < 1) {
      throw new ConfigError(`completion_size must be at least 1, got ${this.completionSize}`, { section, key: "completion_size" }, "PUMP_CONFIG_VALUE");
    }
    this.completionTimeout = this.config.getSeconds("completion_timeout");
    this.completionInterval = this.config.getSeconds("completion_interval");
    for (const [key, value] of [["completion_timeout", this.completionTimeout], ["completion_interval", this.completionInterval]] as const) {
      if (value < 0) throw new ConfigError(`${key} must not be negative (0 turns it off), got ${value}`, { section, key }, "PUMP_CONFIG_VALUE");
    }
    if (this.completionTimeout > 0 && this.completionInterval > 0) {
      throw new ConfigError("completion_timeout and completion_interval cannot be combined: set one of them to 0", { section, key: "completion_interval" }, "PUMP_CONFIG_VALUE");
    }
    this.#lastFlushAt = this.#lastIntervalAt = this.time();
  }

  /** Events buffered since the last flush. */
  get currentSize(): number {
    return this.#size;
  }

  generate(context: Context, event: In, _depth: number): void {
    this.aggregationStrategy.append(context, event);
    const delivery = context[DELIVERY];
    if (delivery !== undefined) {
      // The pipeline settles the generator's share when generate() returns; this one waits for the aggregate.
      delivery.hold();
      this.#members.push(delivery);
    }
    if (++this.#size >= this.completionSize) this.flush();
  }

  /** Sends the aggregate of what is buffered on, if anything is. */
  flush(): void {
    if (this.#size === 0 && this.aggregationStrategy.isEmpty()) return;
    const aggregate = this.aggregationStrategy.flush();
    const members = this.#members;
    this.#members = [];
    this.#size = 0;
    this.#lastFlushAt = this.time();
    const context: Context = {};
    if (members.length === 0) {
      this.pipeline.inject(context, aggregate, this.pipelineDepth + 1);
      return;
    }
    const delivery = new Delivery<readonly Delivery<unknown>[]>((_d, error) => settleMembers(members, error), members);
    context[DELIVERY] = delivery;
    try {
      this.pipeline.inject(context, aggregate, this.pipelineDepth + 1);
    } finally {
      delivery.done(); // the aggregator's own share: the injected copy holds the delivery from here
    }
  }

  override start(): void {
    this.#lastFlushAt = this.#lastIntervalAt = this.time();
    if (!this.#ticking && (this.completionTimeout > 0 || this.completionInterval > 0)) {
      this.#ticking = true;
      this.app.pubsub.subscribe(TICK, this.#onTick);
    }
  }

  /** Flushes what is left, then waits until the aggregate has gone through the asynchronous parts of the chain after it. */
  override async stop(): Promise<void> {
    if (this.#ticking) {
      this.#ticking = false;
      this.app.pubsub.unsubscribe(TICK, this.#onTick);
    }
    this.flush();
    // The pipeline drained its futures before calling stop(); the flush may have made new ones
    // (async processors or generators after this one), which the sinks' stop() must not overtake.
    await this.pipeline.drainFutures();
  }

  #tick(): void {
    const now = this.time();
    if (this.completionTimeout > 0) {
      if (this.#size > 0 && now - this.#lastFlushAt >= this.completionTimeout) this.flush();
    } else if (this.completionInterval > 0 && now - this.#lastIntervalAt >= this.completionInterval) {
      this.#lastIntervalAt = now;
      this.flush();
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), CurrentSize: this.#size };
  }
}

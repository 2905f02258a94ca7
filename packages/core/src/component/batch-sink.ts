import { setTimeout as delay } from "node:timers/promises";
import type { Context } from "../context.js";
import { deliveryOf } from "../delivery/delivery.js";
import { ConfigError, UndeliveredError } from "../errors.js";
import { Wakeup } from "../wakeup.js";
import { Sink } from "./sink.js";

/** One event a `BatchSink` holds: what it sends for it, and how much that weighs. */
export interface BatchEntry<P> {
  /** What the sink made of the event to send (a record, a row, lines of text...). */
  readonly payload: P;
  readonly context: Context;
  readonly event: unknown;
  /** Bytes it takes in a request (an estimate is enough: it bounds batches and the buffer). */
  readonly size: number;
  /** What it counts for against `batchSize` (1 for most servers; lines, rows or points for some). */
  readonly units: number;
  /** performance.now() when the sink took it: its `deliveryTimeoutMs` runs from there. */
  readonly at: number;
}

/**
 * What `send` resolved to: nothing when the server took the whole batch, or one entry per event of
 * it — undefined where it was stored, the server's reason where it was refused.
 */
export type BatchOutcome = void | readonly (Error | undefined)[];

/** How a `BatchSink` batches, holds and retries; each connector maps its own config keys onto these. */
export interface BatchLimits {
  /** Most units in one batch. */
  batchSize: number;
  /** Most bytes in one batch (a larger entry still goes, alone). */
  batchBytes: number;
  /** How long a batch that is not full waits for more, from its first entry. */
  lingerMs: number;
  /** From this many events held the pipeline is throttled... */
  highEvents: number;
  /** ...until it is down to this many (and to `lowBytes`). */
  lowEvents: number;
  highBytes: number;
  lowBytes: number;
  /** How long an event's batch is tried again on transient failures; `Infinity`: for as long as it takes. */
  deliveryTimeoutMs: number;
  /** The first wait before trying again, doubled after each failure up to `retryDelayMaxMs`. */
  retryDelayMs: number;
  retryDelayMaxMs: number;
}

export interface BatchSinkStats {
  /** Events the server stored. */
  delivered: number;
  /** Batches the server took (whole, or with some events refused). */
  batches: number;
  /** Batches tried again after a transient failure. */
  retries: number;
  /** Batches the server refused because of some of their events, split to find them. */
  isolated: number;
  /** Events the server refused (each reported through the pipeline's error handling). */
  rejected: number;
  /** Events given up on for another reason (a permanent error, the delivery timeout). */
  failed: number;
  /** Times the sink throttled the pipeline because it held too much. */
  throttled: number;
  /** The most events the sink held at once. */
  maxBuffered: number;
}

const DEFAULT_LIMITS: BatchLimits = {
  batchSize: 1000,
  batchBytes: 1048576,
  lingerMs: 100,
  highEvents: 10000,
  lowEvents: 5000,
  highBytes: 33554432,
  lowBytes: 16777216,
  deliveryTimeoutMs: 300000,
  retryDelayMs: 500,
  retryDelayMaxMs: 10000,
};

/**
 * The base of a sink that writes to a server in batches and settles each event only when the server
 * confirmed it (`confirmsDelivery`). A connector's sink makes its payload in `process` and hands it to
 * `enqueue`; it implements `send` (one attempt at one batch) and says which errors are transient
 * (`isTransient`) and which refuse events rather than the batch (`refusesEntries`).
 *
 * One loop sends one batch at a time, so events keep their order: a batch leaves when it is full
 * (`batchSize` units or `batchBytes` bytes), when its first event waited `lingerMs`, at once while the
 * pipeline is throttled, and on stop. Transient failures are tried again with backoff (at least the
 * server's `retryAfterMs`) until the batch's first event is `deliveryTimeoutMs` old. A batch refused
 * because of some of its events is halved until each refused event is alone, so every other event is
 * stored. Refused and given-up events go through the pipeline's error handling (hard by default: the
 * pipeline stops and the deliveries fail; soft or routed: they are dropped or routed and confirmed).
 * The pipeline is throttled from `highEvents` events or `highBytes` bytes held until both are down to
 * their low marks. `stop()` sends what is left.
 */
export abstract class BatchSink<In = unknown, P = In> extends Sink<In> {
  override readonly confirmsDelivery = true;
  readonly stats: BatchSinkStats = { delivered: 0, batches: 0, retries: 0, isolated: 0, rejected: 0, failed: 0, throttled: 0, maxBuffered: 0 };
  /** Set by the subclass's constructor, from its config. */
  protected limits: BatchLimits = DEFAULT_LIMITS;

  #queue: BatchEntry<P>[] = [];
  #queuedUnits = 0;
  #queuedBytes = 0;
  #inflight = 0;
  #inflightBytes = 0;
  #throttling = false;
  #closing = false;
  #loop: Promise<void> | undefined;
  readonly #wakeup = new Wakeup();

  /** One attempt at sending `batch`. Rejects when nothing was stored; else resolves to the outcome. */
  protected abstract send(batch: readonly BatchEntry<P>[]): Promise<BatchOutcome>;

  /** The error for events given up on (`message` says why, `cause` is the last failure); connectors give their own class. */
  protected deliveryError(message: string, events: number, cause: unknown): Error {
    return new UndeliveredError(message, events, { cause });
  }

  /** Whether a failed `send` is worth trying again (the server unreachable, busy, failing over). */
  protected isTransient(_error: unknown): boolean {
    return false;
  }

  /** At least how long to wait before trying again after `error` (a server's Retry-After). */
  protected retryAfterMs(_error: unknown): number {
    return 0;
  }

  /** Whether the server refused the whole batch because of some of its events (then it is halved to find them). */
  protected refusesEntries(_error: unknown): boolean {
    return false;
  }

  /** The error reported for one event the server refused; override to give the connector's own, with the event's data. */
  protected rejectError(_entry: BatchEntry<P>, reason: Error): Error {
    return this.deliveryError(`the server refused the event: ${reason.message}`, 1, reason);
  }

  /** What the loop waits for before its first send (topics made, a schema checked); a stop does not wait for it. */
  protected ready(): Promise<unknown> | undefined {
    return undefined;
  }

  /**
   * The limits from the sink's config under the keys most connectors share (BSPump's style):
   * `batch_size`, `batch_bytes`, `flush_interval` (s), `watermark.high`/`low`,
   * `watermark.high_bytes`/`low_bytes`, `delivery_timeout` (s), `retry_delay`/`retry_delay_max` (s).
   * A key the sink's ConfigDefaults lack keeps the default limit; a low mark above its high one is the high one.
   */
  protected configuredLimits(): BatchLimits {
    const c = this.config;
    const d = DEFAULT_LIMITS;
    const positive = (key: string, value: number): number => {
      if (!(value > 0)) throw new ConfigError(`must be more than 0, got ${value}`, { section: c.section, key }, "PUMP_CONFIG_VALUE");
      return value;
    };
    const highEvents = positive("watermark.high", c.getInt("watermark.high", d.highEvents));
    const highBytes = positive("watermark.high_bytes", c.getInt("watermark.high_bytes", d.highBytes));
    const retryDelayMs = positive("retry_delay", c.getSeconds("retry_delay", d.retryDelayMs / 1000)) * 1000;
    return {
      batchSize: positive("batch_size", c.getInt("batch_size", d.batchSize)),
      batchBytes: positive("batch_bytes", c.getInt("batch_bytes", d.batchBytes)),
      lingerMs: c.getSeconds("flush_interval", d.lingerMs / 1000) * 1000,
      highEvents,
      lowEvents: Math.min(c.getInt("watermark.low", d.lowEvents), highEvents),
      highBytes,
      lowBytes: Math.min(c.getInt("watermark.low_bytes", d.lowBytes), highBytes),
      deliveryTimeoutMs: c.getSeconds("delivery_timeout", d.deliveryTimeoutMs / 1000) * 1000,
      retryDelayMs,
      retryDelayMaxMs: Math.max(c.getSeconds("retry_delay_max", d.retryDelayMaxMs / 1000) * 1000, retryDelayMs),
    };
  }

  /** Where the sink writes, for its log lines. */
  protected get target(): string {
    return this.constructor.name;
  }

  /** Events taken and not yet settled (queued and being sent). */
  get buffered(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Their bytes. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#closing = false;
    this.#loop = this.#run();
  }

  /** Takes an event's payload: it settles when the server stored it. */
  protected enqueue(context: Context, event: unknown, payload: P, size: number, units = 1): void {
    const queue = this.#queue;
    queue.push({ payload, context, event, size, units, at: performance.now() });
    this.#queuedUnits += units;
    this.#queuedBytes += size;
    const held = queue.length + this.#inflight;
    if (held > this.stats.maxBuffered) this.stats.maxBuffered = held;
    this.#updateThrottle();
    if (queue.length === 1 || this.#full() || this.#throttling) this.#wakeup.wake();
  }

  /** Sends what is left (transient failures are still tried again until `deliveryTimeoutMs`). */
  override async stop(): Promise<void> {
    this.#closing = true;
    this.#wakeup.wake();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Buffered: this.buffered, BufferedBytes: this.bufferedBytes, Stats: { ...this.stats } };
  }

  #full(): boolean {
    return this.#queuedUnits >= this.limits.batchSize || this.#queuedBytes >= this.limits.batchBytes;
  }

  async #run(): Promise<void> {
    const ready = this.ready();
    if (ready !== undefined) {
      const settled = ready.then(
        () => true,
        (error: unknown) => {
          this.log.warn("Not ready; sending anyway", { target: this.target, error });
          return true;
        },
      );
      while (!this.#closing && !(await Promise.race([settled, this.#wakeup.sleep().then(() => false)]))) {
        // woken by an event or by stop(): look again
      }
    }
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await this.#wakeup.sleep();
        continue;
      }
      if (!this.#full() && !this.#closing && !this.#throttling) {
        const wait = this.limits.lingerMs - (performance.now() - this.#queue[0]!.at);
        if (wait > 0) {
          await this.#wakeup.sleep(wait);
          continue;
        }
      }
      const batch = this.#take();
      try {
        await this.#deliver(batch, true);
      } catch (error) {
        // a bug of the subclass's hooks: the batch's unsettled events are still given up on, visibly
        const left = batch.filter((entry) => deliveryOf(entry.context)?.settled !== true);
        this.#giveUp(left, this.deliveryError(`unexpected failure: ${messageOf(error)}`, left.length, error));
      }
      this.#inflight = 0;
      this.#inflightBytes = 0;
      this.#updateThrottle();
    }
  }

  /** The next batch: at most `batchSize` units and `batchBytes` bytes (at least one event). */
  #take(): BatchEntry<P>[] {
    const queue = this.#queue;
    const { batchSize, batchBytes } = this.limits;
    let n = 0;
    let units = 0;
    let size = 0;
    while (n < queue.length) {
      const entry = queue[n]!;
      if (n > 0 && (units + entry.units > batchSize || size + entry.size > batchBytes)) break;
      units += entry.units;
      size += entry.size;
      n++;
    }
    const batch = queue.splice(0, n);
    this.#queuedUnits -= units;
    this.#queuedBytes -= size;
    this.#inflight = n;
    this.#inflightBytes = size;
    return batch;
  }

  /** Sends a batch, trying transient failures again; a batch refused for some of its events is halved until each stands alone. */
  async #deliver(batch: BatchEntry<P>[], whole: boolean): Promise<void> {
    const deadline = batch[0]!.at + this.limits.deliveryTimeoutMs;
    let backoff = this.limits.retryDelayMs;
    let attempts = 0;
    for (;;) {
      let outcome: BatchOutcome;
      try {
        outcome = await this.send(batch);
      } catch (error) {
        const left = deadline - performance.now();
        const transient = this.isTransient(error);
        if (transient && left > 0) {
          attempts++;
          this.stats.retries++;
          this.log[attempts === 1 ? "warn" : "debug"]("Sending failed; trying again", { target: this.target, error, events: batch.length, attempts });
          await delay(Math.min(Math.max(backoff, this.retryAfterMs(error)), left), undefined, { ref: false });
          backoff = Math.min(backoff * 2, this.limits.retryDelayMaxMs);
          continue;
        }
        if (this.refusesEntries(error)) {
          if (batch.length === 1) {
            this.#reject(batch[0]!, error);
            return;
          }
          if (whole) this.stats.isolated++;
          const half = Math.ceil(batch.length / 2);
          await this.#deliver(batch.slice(0, half), false);
          await this.#deliver(batch.slice(half), false);
          return;
        }
        const why = attempts > 0 ? ` after ${attempts} retries` : transient ? " (delivery timeout)" : "";
        this.#giveUp(batch, this.deliveryError(`gave up sending ${batch.length} event(s) to ${this.target}${why}: ${messageOf(error)}`, batch.length, error));
        return;
      }
      if (attempts > 0) this.log.notice("Sending works again", { target: this.target, attempts, events: batch.length });
      this.stats.batches++;
      this.#settle(batch, outcome);
      return;
    }
  }

  #settle(batch: readonly BatchEntry<P>[], outcome: BatchOutcome): void {
    if (outcome === undefined) {
      this.stats.delivered += batch.length;
      for (const entry of batch) deliveryOf(entry.context)?.done();
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const refusal = outcome[i];
      if (refusal === undefined) {
        this.stats.delivered++;
        deliveryOf(batch[i]!.context)?.done();
      } else this.#reject(batch[i]!, refusal);
    }
  }

  /** One event the server refused: through the pipeline's error handling, with the connector's error. */
  #reject(entry: BatchEntry<P>, reason: unknown): void {
    this.stats.rejected++;
    const error = this.rejectError(entry, reason instanceof Error ? reason : new Error(messageOf(reason)));
    this.log.warn("The server refused an event", { target: this.target, error });
    this.pipeline.failEvent(entry.context, entry.event, error, this);
  }

  #giveUp(batch: readonly BatchEntry<P>[], error: Error): void {
    this.stats.failed += batch.length;
    for (const entry of batch) this.pipeline.failEvent(entry.context, entry.event, error, this);
  }

  #updateThrottle(): void {
    const count = this.buffered;
    const bytes = this.bufferedBytes;
    const limits = this.limits;
    if (!this.#throttling) {
      if (count >= limits.highEvents || bytes >= limits.highBytes) {
        this.#throttling = true;
        this.stats.throttled++;
        this.pipeline.throttle(this, true);
      }
    } else if (count <= limits.lowEvents && bytes <= limits.lowBytes) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }
}

/** What a thrown value says: its `message`, or itself as text. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(error);
}

import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, deliveryOf, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { InfluxDBConnection } from "./connection.js";
import { InfluxDBDeliveryError, InfluxDBPointError, InfluxDBWriteError } from "./errors.js";
import { LineEncoder, type InfluxEvent } from "./line.js";

interface Item {
  readonly lines: string[];
  /** Bytes of its lines with their newlines (UTF-16 length: close enough for a bound). */
  readonly size: number;
  readonly context: Context;
  readonly event: unknown;
  /** performance.now() when the sink took it. */
  readonly at: number;
}

export interface InfluxDBSinkStats {
  /** Events whose points the server stored. */
  written: number;
  /** Lines (points) stored. */
  lines: number;
  /** Write requests that succeeded. */
  requests: number;
  /** Requests tried again after a transient failure. */
  retries: number;
  /** Batches the server refused part of, split to find the refused points. */
  isolated: number;
  /** Events whose points the server refused (each reported through the pipeline's error handling). */
  rejected: number;
  /** Events given up on for another reason (authorization, `delivery_timeout`). */
  failed: number;
  /** Times the sink throttled the pipeline. */
  throttled: number;
  /** The most events the sink held at once. */
  maxBuffered: number;
}

/** Answers that are about the points, not the request: split the batch to find the culprits. */
const POINT_STATUSES = new Set([400, 413, 422]);

/**
 * Writes events to InfluxDB in batches of line protocol. An event is a point `{measurement, tags,
 * fields, time}`, BSPump's tuple `[measurement, tagSet, fieldSet, seconds]`, or line protocol (a string
 * or bytes; several lines make one event). Points without a time get the time the sink took them, so a
 * write tried again does not add points: every line written has its timestamp.
 *
 * Each event's delivery is settled when the server answered the request holding its lines with
 * success — the sink tracks its own requests; it does not rely on the client library's buffer.
 * Transient failures (no answer, a status in the connection's `response_codes_to_retry`, honouring
 * Retry-After) are tried again with backoff for `delivery_timeout`. A request refused because of its
 * points (400: a field type conflict, a line that does not parse; 413: too large) is split in halves
 * until each refused event is alone: the others are stored (InfluxDB stores the good points of a
 * partial write, and writing them again changes nothing) and each refused one goes through the
 * pipeline's error handling as an `InfluxDBPointError` with its lines and the server's reason. Other
 * refusals (401, 403) fail the batch's events the same way (`InfluxDBDeliveryError`).
 *
 * The pipeline is throttled while the sink holds `watermark.high` events or `watermark.high_bytes`
 * bytes, until both are under their low watermarks. `stop()` writes what is left.
 */
export class InfluxDBSink extends Sink<InfluxEvent> {
  static override ConfigDefaults: ConfigValues = {
    integer_fields: "",
    batch_size: 5000,
    batch_bytes: 1000000,
    flush_interval: 1.0,
    "watermark.high": 50000,
    "watermark.low": 25000,
    "watermark.high_bytes": 33554432,
    "watermark.low_bytes": 16777216,
    delivery_timeout: 300.0,
    retry_delay: 0.5,
    retry_delay_max: 10.0,
  };

  override readonly confirmsDelivery = true;
  readonly connection: InfluxDBConnection;
  readonly encoder: LineEncoder;
  readonly stats: InfluxDBSinkStats = { written: 0, lines: 0, requests: 0, retries: 0, isolated: 0, rejected: 0, failed: 0, throttled: 0, maxBuffered: 0 };
  readonly #batchSize: number;
  readonly #batchBytes: number;
  readonly #lingerMs: number;
  readonly #high: number;
  readonly #low: number;
  readonly #highBytes: number;
  readonly #lowBytes: number;
  readonly #deliveryTimeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #retryDelayMaxMs: number;

  #queue: Item[] = [];
  #queuedLines = 0;
  #queuedBytes = 0;
  #inflight = 0;
  #inflightBytes = 0;
  #throttling = false;
  #closing = false;
  #loop: Promise<void> | undefined;
  #wakeup: PromiseWithResolvers<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | InfluxDBConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof InfluxDBConnection)) throw new TypeError(`InfluxDBSink '${this.id}': connection '${located.id}' is not an InfluxDBConnection`);
    this.connection = located;
    const c = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: c.section, key });
    const integers = c
      .get("integer_fields")
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    this.encoder = new LineEncoder(located.precision, integers);
    this.#batchSize = positive(c.getInt("batch_size"), at("batch_size"));
    this.#batchBytes = positive(c.getInt("batch_bytes"), at("batch_bytes"));
    this.#lingerMs = c.getSeconds("flush_interval") * 1000;
    this.#high = positive(c.getInt("watermark.high"), at("watermark.high"));
    this.#low = Math.min(c.getInt("watermark.low"), this.#high);
    this.#highBytes = positive(c.getInt("watermark.high_bytes"), at("watermark.high_bytes"));
    this.#lowBytes = Math.min(c.getInt("watermark.low_bytes"), this.#highBytes);
    this.#deliveryTimeoutMs = c.getSeconds("delivery_timeout") * 1000;
    this.#retryDelayMs = positive(c.getSeconds("retry_delay"), at("retry_delay")) * 1000;
    this.#retryDelayMaxMs = Math.max(c.getSeconds("retry_delay_max") * 1000, this.#retryDelayMs);
  }

  /** Events taken and not yet written (queued and being written). */
  get buffered(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Their bytes of line protocol. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#closing = false;
    this.#loop = this.#run();
  }

  process(context: Context, event: InfluxEvent): void {
    const lines = this.encoder.encode(event);
    let size = 0;
    for (const line of lines) size += line.length + 1;
    this.#queue.push({ lines, size, context, event, at: performance.now() });
    this.#queuedLines += lines.length;
    this.#queuedBytes += size;
    if (this.buffered > this.stats.maxBuffered) this.stats.maxBuffered = this.buffered;
    this.#updateThrottle();
    if (this.#queue.length === 1 || this.#queuedLines >= this.#batchSize || this.#queuedBytes >= this.#batchBytes) this.#wake();
  }

  /** Writes what is left (transient failures are still tried again for `delivery_timeout`). */
  override async stop(): Promise<void> {
    this.#closing = true;
    this.#wake();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await this.#sleep(Infinity);
        continue;
      }
      const full = this.#queuedLines >= this.#batchSize || this.#queuedBytes >= this.#batchBytes;
      if (!full && !this.#closing && !this.#throttling) {
        const wait = this.#lingerMs - (performance.now() - this.#queue[0]!.at);
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
      }
      const batch = this.#take();
      try {
        await this.#store(batch, true);
      } catch (error) {
        this.#giveUp(
          batch.filter((item) => deliveryOf(item.context)?.settled !== true),
          new InfluxDBDeliveryError(`unexpected failure: ${(error as Error)?.message}`, batch.length, { cause: error }),
        );
      }
      this.#inflight = 0;
      this.#inflightBytes = 0;
      this.#updateThrottle();
    }
  }

  /** The next batch: at most `batch_size` lines and `batch_bytes` bytes (at least one event). */
  #take(): Item[] {
    let n = 0;
    let lines = 0;
    let size = 0;
    while (n < this.#queue.length) {
      const item = this.#queue[n]!;
      if (n > 0 && (lines + item.lines.length > this.#batchSize || size + item.size > this.#batchBytes)) break;
      lines += item.lines.length;
      size += item.size;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#queuedLines -= lines;
    this.#queuedBytes -= size;
    this.#inflight = n;
    this.#inflightBytes = size;
    return batch;
  }

  /** Writes items in one request; when the server refuses points, halves again and again until each refused event is alone. */
  async #store(items: Item[], top: boolean): Promise<void> {
    const outcome = await this.#attempt(items);
    if (outcome === undefined) {
      this.stats.written += items.length;
      for (const item of items) {
        this.stats.lines += item.lines.length;
        deliveryOf(item.context)?.done();
      }
      return;
    }
    if (outcome instanceof InfluxDBWriteError && outcome.status !== undefined && POINT_STATUSES.has(outcome.status)) {
      if (items.length === 1) {
        this.#reject(items[0]!, outcome);
        return;
      }
      if (top) this.stats.isolated++;
      const middle = Math.ceil(items.length / 2);
      await this.#store(items.slice(0, middle), false);
      await this.#store(items.slice(middle), false);
      return;
    }
    this.#giveUp(
      items,
      outcome instanceof InfluxDBDeliveryError
        ? outcome
        : new InfluxDBDeliveryError(`InfluxDB refused the write: ${(outcome as Error)?.message ?? String(outcome)}`, items.length, { cause: outcome }),
    );
  }

  /** Sends the request, trying transient failures again with backoff; resolves undefined on success, else the error. */
  async #attempt(items: Item[]): Promise<unknown> {
    const body = items.map((item) => item.lines.join("\n")).join("\n");
    let backoff = this.#retryDelayMs;
    let attempts = 0;
    const firstAt = items[0]!.at;
    for (;;) {
      try {
        await this.connection.write(body);
        this.stats.requests++;
        if (attempts > 0) this.log.notice("Writing to InfluxDB works again", { attempts, events: items.length });
        return undefined;
      } catch (error) {
        if (!(error instanceof InfluxDBWriteError) || !error.retriable) return error;
        const left = firstAt + this.#deliveryTimeoutMs - performance.now();
        if (left <= 0) return new InfluxDBDeliveryError(`gave up writing to InfluxDB after ${attempts} retries: ${error.message}`, items.length, { cause: error });
        attempts++;
        this.stats.retries++;
        this.log[attempts === 1 ? "warn" : "debug"]("Writing to InfluxDB failed; trying again", { error, events: items.length, attempts });
        await delay(Math.min(Math.max(backoff, error.retryAfterMs ?? 0), left), undefined, { ref: false });
        backoff = Math.min(backoff * 2, this.#retryDelayMaxMs);
      }
    }
  }

  /** One refused event: reported with its lines and the server's reason through the pipeline's error handling. */
  #reject(item: Item, cause: InfluxDBWriteError): void {
    this.stats.rejected++;
    const error = new InfluxDBPointError(item.lines, cause.reason, { cause });
    this.log.warn("Point refused", { reason: cause.reason, status: cause.status });
    const hard = this.pipeline.setError(item.context, item.event, error, this);
    const delivery = deliveryOf(item.context);
    if (hard) delivery?.fail(error);
    else delivery?.done();
  }

  /**
   * The sink gives up on events: the pipeline's error handling decides, as for an event a processor
   * failed on. Hard (the default): the pipeline stops and every delivery fails. Soft or routed: the
   * events are dropped (or routed) and confirmed.
   */
  #giveUp(items: Item[], error: InfluxDBDeliveryError): void {
    this.stats.failed += items.length;
    for (const item of items) {
      const hard = this.pipeline.setError(item.context, item.event, error, this);
      const delivery = deliveryOf(item.context);
      if (hard) delivery?.fail(error);
      else delivery?.done();
    }
  }

  #updateThrottle(): void {
    const count = this.buffered;
    const bytes = this.bufferedBytes;
    if (!this.#throttling && (count >= this.#high || bytes >= this.#highBytes)) {
      this.#throttling = true;
      this.stats.throttled++;
      this.pipeline.throttle(this, true);
    } else if (this.#throttling && count <= this.#low && bytes <= this.#lowBytes) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  #wake(): void {
    const wakeup = this.#wakeup;
    this.#wakeup = undefined;
    wakeup?.resolve();
  }

  #sleep(ms: number): Promise<void> {
    const wakeup = (this.#wakeup ??= Promise.withResolvers<void>());
    if (ms === Infinity) return wakeup.promise;
    return Promise.race([wakeup.promise, delay(ms, undefined, { ref: false })]);
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Bucket: this.connection.bucket, Buffered: this.buffered, BufferedBytes: this.bufferedBytes, Stats: { ...this.stats } };
  }
}

function positive(value: number, at: { section: string; key: string }): number {
  if (!(value > 0)) throw new ConfigError(`must be more than 0, got ${value}`, at, "PUMP_CONFIG_VALUE");
  return value;
}

import { BatchSink, type BatchEntry, type BatchOutcome, type BatchSinkStats, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { InfluxDBConnection } from "./connection.js";
import { InfluxDBDeliveryError, InfluxDBPointError, InfluxDBWriteError } from "./errors.js";
import { LineEncoder, type InfluxEvent } from "./line.js";

export interface InfluxDBSinkStats extends BatchSinkStats {
  /** Lines (points) stored. */
  lines: number;
}

/** Answers that are about the points, not the request: split the batch to find the culprits. */
const POINT_STATUSES = new Set([400, 413, 422]);

/**
 * Writes events to InfluxDB in batches of line protocol. An event is a point `{measurement, tags,
 * fields, time}`, BSPump's tuple `[measurement, tagSet, fieldSet, seconds]`, or line protocol (a string
 * or bytes; several lines make one event). Points without a time get the time the sink took them, so a
 * write tried again does not add points: every line written has its timestamp.
 *
 * A `BatchSink`: each event's delivery is settled when the server answered the request holding its lines with
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
export class InfluxDBSink extends BatchSink<InfluxEvent, string[]> {
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

  readonly connection: InfluxDBConnection;
  readonly encoder: LineEncoder;
  declare readonly stats: InfluxDBSinkStats;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | InfluxDBConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.stats.lines = 0;
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof InfluxDBConnection)) throw new TypeError(`InfluxDBSink '${this.id}': connection '${located.id}' is not an InfluxDBConnection`);
    this.connection = located;
    const integers = this.config
      .get("integer_fields")
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    this.encoder = new LineEncoder(located.precision, integers);
    this.limits = this.configuredLimits();
  }

  protected override get target(): string {
    return `InfluxDB bucket ${this.connection.bucket}`;
  }

  /** The event's lines weigh their bytes, with newlines (UTF-16 length: close enough for a bound), and count against `batch_size` one by one. */
  process(context: Context, event: InfluxEvent): void {
    const lines = this.encoder.encode(event);
    let size = 0;
    for (const line of lines) size += line.length + 1;
    this.enqueue(context, event, lines, size, lines.length);
  }

  protected async send(batch: readonly BatchEntry<string[]>[]): Promise<BatchOutcome> {
    let lines = 0;
    for (const entry of batch) lines += entry.payload.length;
    await this.connection.write(batch.map((entry) => entry.payload.join("\n")).join("\n"));
    this.stats.lines += lines;
  }

  protected override isTransient(error: unknown): boolean {
    return error instanceof InfluxDBWriteError && error.retriable;
  }

  protected override retryAfterMs(error: unknown): number {
    return error instanceof InfluxDBWriteError ? (error.retryAfterMs ?? 0) : 0;
  }

  protected override refusesEntries(error: unknown): boolean {
    return error instanceof InfluxDBWriteError && error.status !== undefined && POINT_STATUSES.has(error.status);
  }

  protected override deliveryError(message: string, events: number, cause: unknown): Error {
    return new InfluxDBDeliveryError(message, events, { cause });
  }

  /** One refused event, with its lines and the server's reason. */
  protected override rejectError(entry: BatchEntry<string[]>, reason: Error): Error {
    return new InfluxDBPointError(entry.payload, reason instanceof InfluxDBWriteError ? reason.reason : reason.message, { cause: reason });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Bucket: this.connection.bucket };
  }
}

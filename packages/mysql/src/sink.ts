import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, deliveryOf, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { isTransient, MySQLConnection } from "./connection.js";
import { MySQLDeliveryError, MySQLEventError, MySQLRowError } from "./errors.js";

/**
 * Server errors that are about a row, not the statement: the row breaks a constraint or does not fit
 * its column. A batch that fails with one of them is split until the bad rows are alone.
 */
export const ROW_ERRNOS: ReadonlySet<number> = new Set([
  1048, // ER_BAD_NULL_ERROR: column cannot be null
  1062, // ER_DUP_ENTRY
  1169, // ER_DUP_UNIQUE
  1216, // ER_NO_REFERENCED_ROW
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1364, // ER_NO_DEFAULT_FOR_FIELD
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1406, // ER_DATA_TOO_LONG
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
  1557, // ER_FOREIGN_DUPLICATE_KEY
  1586, // ER_DUP_ENTRY_WITH_KEY_NAME
  1690, // ER_DATA_OUT_OF_RANGE
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB CHECK)
]);

export function isRowError(error: unknown): boolean {
  const errno = (error as { errno?: unknown } | null | undefined)?.errno;
  return typeof errno === "number" && ROW_ERRNOS.has(errno);
}

interface Row {
  readonly values: unknown[];
  readonly context: Context;
  readonly event: unknown;
  readonly size: number;
  /** performance.now() when the sink took it. */
  readonly at: number;
}

export interface MySQLSinkStats {
  /** Rows the server stored (inserted, or updated by an upsert). */
  stored: number;
  /** INSERT statements that succeeded. */
  statements: number;
  /** Batches that failed on a row error and were split to find the bad rows. */
  isolated: number;
  /** Rows the server refused (each reported with its reason through the pipeline's error handling). */
  rejected: number;
  /** Statements tried again after a transient error. */
  retries: number;
  /** Events given up on for another reason (a statement error, `delivery_timeout`, a stop). */
  failed: number;
  /** Times the sink throttled the pipeline because it held too much. */
  throttled: number;
  /** The most events the sink held at once. */
  maxBuffered: number;
}

const MODES = ["insert", "upsert", "ignore"] as const;

/**
 * Writes events (objects) as rows into `table`, in batched multi-row `INSERT`s: the column of each
 * value is in `columns`, its event key in `data` (BSPump's key; the column names by default). A key
 * the event lacks is NULL; an object or array value is stored as JSON. `mode = upsert` adds `ON
 * DUPLICATE KEY UPDATE` for `update_columns` (default: every column), `mode = ignore` is `INSERT
 * IGNORE`.
 *
 * Each event's delivery is settled once the statement holding its row succeeded. A statement that
 * fails because of rows (a duplicate key, a NULL in a NOT NULL column, a value too long, a foreign key
 * or CHECK constraint) is split in halves, again and again, so every good row is stored and each bad
 * one is reported alone, with its row and the server's reason, as a `MySQLRowError` through the
 * pipeline's error handling (hard by default: the pipeline stops; soft or routed: the event is dropped
 * or routed and confirmed). Transient errors (the server down or gone away, a deadlock) are tried
 * again with backoff for `delivery_timeout` seconds; other statement errors (no such table) fail the
 * batch's events through the error handling.
 *
 * The pipeline is throttled while the sink holds `watermark.high` events or `watermark.high_bytes`
 * bytes, until both are under their low watermarks. `stop()` writes what is left.
 */
export class MySQLSink extends Sink<Record<string, unknown>> {
  static override ConfigDefaults: ConfigValues = {
    table: "",
    columns: "",
    data: "",
    mode: "insert",
    update_columns: "",
    batch_size: 1000,
    batch_bytes: 4194304,
    flush_interval: 0.2,
    "watermark.high": 10000,
    "watermark.low": 5000,
    "watermark.high_bytes": 33554432,
    "watermark.low_bytes": 16777216,
    delivery_timeout: 300.0,
    retry_delay: 0.5,
    retry_delay_max: 10.0,
  };

  override readonly confirmsDelivery = true;
  readonly connection: MySQLConnection;
  readonly table: string;
  readonly columns: readonly string[];
  readonly keys: readonly string[];
  readonly mode: (typeof MODES)[number];
  /** The statement, with `VALUES ?` taking the rows. */
  readonly statement: string;
  readonly stats: MySQLSinkStats = { stored: 0, statements: 0, isolated: 0, rejected: 0, retries: 0, failed: 0, throttled: 0, maxBuffered: 0 };
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

  #queue: Row[] = [];
  #queuedBytes = 0;
  #inflight = 0;
  #inflightBytes = 0;
  #throttling = false;
  #closing = false;
  #loop: Promise<void> | undefined;
  #wakeup: PromiseWithResolvers<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | MySQLConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof MySQLConnection)) throw new TypeError(`MySQLSink '${this.id}': connection '${located.id}' is not a MySQLConnection`);
    this.connection = located;
    const c = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: c.section, key });
    this.table = c.get("table").trim();
    if (this.table === "") throw new ConfigError("the table to write to is not set", at("table"), "PUMP_CONFIG_MISSING");
    this.columns = list(c.get("columns"));
    if (this.columns.length === 0) throw new ConfigError("no columns: list the table's columns to write (comma-separated)", at("columns"), "PUMP_CONFIG_MISSING");
    const data = list(c.get("data"));
    if (data.length > 0 && data.length !== this.columns.length) {
      throw new ConfigError(`names ${data.length} event keys for ${this.columns.length} columns`, at("data"), "PUMP_CONFIG_VALUE");
    }
    this.keys = data.length > 0 ? data : this.columns;
    const mode = c.get("mode").trim().toLowerCase();
    if (!(MODES as readonly string[]).includes(mode)) throw new ConfigError(`must be insert, upsert or ignore, got '${mode}'`, at("mode"), "PUMP_CONFIG_VALUE");
    this.mode = mode as (typeof MODES)[number];
    const update = list(c.get("update_columns"));
    for (const column of update) {
      if (!this.columns.includes(column)) throw new ConfigError(`'${column}' is not one of the columns`, at("update_columns"), "PUMP_CONFIG_VALUE");
    }
    this.statement = buildInsert(this.table, this.columns, this.mode, update.length > 0 ? update : this.columns);
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

  /** Events taken and not yet stored (queued and being written). */
  get buffered(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Their estimated size in bytes. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#closing = false;
    this.#loop = this.#run();
  }

  process(context: Context, event: Record<string, unknown>): void {
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new MySQLEventError(`the event must be an object of column values, got ${Array.isArray(event) ? "an array" : event === null ? "null" : typeof event}`);
    }
    const values = this.keys.map((key) => toParameter(event[key]));
    const size = estimate(values);
    this.#queue.push({ values, context, event, size, at: performance.now() });
    this.#queuedBytes += size;
    if (this.buffered > this.stats.maxBuffered) this.stats.maxBuffered = this.buffered;
    this.#updateThrottle();
    if (this.#queue.length >= this.#batchSize || this.#queuedBytes >= this.#batchBytes) this.#wake();
    else if (this.#queue.length === 1) this.#wake();
  }

  /** Writes what is left (transient errors are still tried again for `delivery_timeout`). */
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
      const full = this.#queue.length >= this.#batchSize || this.#queuedBytes >= this.#batchBytes;
      if (!full && !this.#closing && !this.#throttling) {
        const wait = this.#lingerMs - (performance.now() - this.#queue[0]!.at);
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
      }
      const batch = this.#take();
      try {
        await this.#store(batch);
      } catch (error) {
        this.#giveUp(batch.filter((row) => deliveryOf(row.context)?.settled !== true), new MySQLDeliveryError(`unexpected failure: ${(error as Error)?.message}`, batch.length, { cause: error }));
      }
      this.#inflight = 0;
      this.#inflightBytes = 0;
      this.#updateThrottle();
    }
  }

  /** The next batch: at most `batch_size` rows and `batch_bytes` bytes (at least one row). */
  #take(): Row[] {
    let n = 0;
    let size = 0;
    while (n < this.#queue.length && n < this.#batchSize) {
      const next = this.#queue[n]!.size;
      if (n > 0 && size + next > this.#batchBytes) break;
      size += next;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#queuedBytes -= size;
    this.#inflight = n;
    this.#inflightBytes = size;
    return batch;
  }

  /** Stores rows with one statement; on a row error, halves again and again until each bad row is alone. */
  async #store(rows: Row[]): Promise<void> {
    const outcome = await this.#attempt(rows);
    if (outcome === undefined) {
      this.stats.stored += rows.length;
      for (const row of rows) deliveryOf(row.context)?.done();
      return;
    }
    if (isRowError(outcome)) {
      if (rows.length === 1) {
        this.#reject(rows[0]!, outcome);
        return;
      }
      if (rows.length === this.#inflight) this.stats.isolated++;
      const middle = Math.ceil(rows.length / 2);
      await this.#store(rows.slice(0, middle));
      await this.#store(rows.slice(middle));
      return;
    }
    const timedOut = outcome instanceof MySQLDeliveryError;
    this.#giveUp(rows, timedOut ? outcome : new MySQLDeliveryError(`cannot write to ${this.table}: ${(outcome as Error)?.message ?? String(outcome)}`, rows.length, { cause: outcome }));
  }

  /** Runs the statement, trying transient failures again with backoff; resolves undefined on success, else the error. */
  async #attempt(rows: Row[]): Promise<unknown> {
    const pool = this.connection.acquire();
    let backoff = this.#retryDelayMs;
    let attempts = 0;
    const firstAt = rows[0]!.at;
    for (;;) {
      try {
        await pool.query(this.statement, [rows.map((row) => row.values)]);
        this.stats.statements++;
        if (attempts > 0) this.log.notice("Writing to MySQL works again", { attempts, rows: rows.length });
        return undefined;
      } catch (error) {
        if (!isTransient(error)) return error;
        const left = firstAt + this.#deliveryTimeoutMs - performance.now();
        if (left <= 0) return new MySQLDeliveryError(`gave up writing to ${this.table} after ${attempts} retries: ${(error as Error).message}`, rows.length, { cause: error });
        attempts++;
        this.stats.retries++;
        this.log[attempts === 1 ? "warn" : "debug"]("Writing to MySQL failed; trying again", { table: this.table, error, rows: rows.length, attempts });
        await delay(Math.min(backoff, left), undefined, { ref: false });
        backoff = Math.min(backoff * 2, this.#retryDelayMaxMs);
      }
    }
  }

  /** One bad row: reported with the row and the server's reason through the pipeline's error handling. */
  #reject(row: Row, cause: unknown): void {
    this.stats.rejected++;
    const named: Record<string, unknown> = {};
    this.columns.forEach((column, i) => {
      named[column] = row.values[i];
    });
    const error = new MySQLRowError(this.table, named, cause);
    this.log.warn("Row refused", { table: this.table, reason: error.reason, code: error.server.code, row: named });
    const hard = this.pipeline.setError(row.context, row.event, error, this);
    const delivery = deliveryOf(row.context);
    if (hard) delivery?.fail(error);
    else delivery?.done();
  }

  /**
   * The sink gives up on events: the pipeline's error handling decides, as for an event a processor
   * failed on. Hard (the default): the pipeline stops and every delivery fails. Soft or routed: the
   * events are dropped (or routed) and confirmed.
   */
  #giveUp(rows: Row[], error: MySQLDeliveryError): void {
    this.stats.failed += rows.length;
    for (const row of rows) {
      const hard = this.pipeline.setError(row.context, row.event, error, this);
      const delivery = deliveryOf(row.context);
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
    return { ...super.restGet(), Table: this.table, Mode: this.mode, Buffered: this.buffered, BufferedBytes: this.bufferedBytes, Stats: { ...this.stats } };
  }
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function positive(value: number, at: { section: string; key: string }): number {
  if (!(value > 0)) throw new ConfigError(`must be more than 0, got ${value}`, at, "PUMP_CONFIG_VALUE");
  return value;
}

/** `name` or `db.name` as a quoted identifier. */
export function quoteIdentifier(name: string): string {
  return name
    .split(".")
    .map((part) => `\`${part.replaceAll("`", "``")}\``)
    .join(".");
}

/** The multi-row statement; mysql2 expands `VALUES ?` to the rows. */
export function buildInsert(table: string, columns: readonly string[], mode: "insert" | "upsert" | "ignore", update: readonly string[]): string {
  const head = `INSERT ${mode === "ignore" ? "IGNORE " : ""}INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(", ")}) VALUES ?`;
  if (mode !== "upsert") return head;
  return `${head} ON DUPLICATE KEY UPDATE ${update.map((column) => `${quoteIdentifier(column)} = VALUES(${quoteIdentifier(column)})`).join(", ")}`;
}

/** What mysql2 takes as a parameter: missing is NULL, plain objects and arrays are JSON. */
export function toParameter(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return JSON.stringify(value);
}

/** Roughly the bytes a row takes in the statement. */
function estimate(values: readonly unknown[]): number {
  let size = 4;
  for (const value of values) {
    if (typeof value === "string") size += value.length + 3;
    else if (Buffer.isBuffer(value)) size += value.length * 2 + 3;
    else size += 12;
  }
  return size;
}

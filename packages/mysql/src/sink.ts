import { BatchSink, ConfigError, type BatchEntry, type BatchOutcome, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
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

/** What the sink sends for an event: its values in the order of `columns`. */
type Row = unknown[];

const MODES = ["insert", "upsert", "ignore"] as const;

/**
 * Writes events (objects) as rows into `table`, in batched multi-row `INSERT`s: the column of each
 * value is in `columns`, its event key in `data` (BSPump's key; the column names by default). A key
 * the event lacks is NULL; an object or array value is stored as JSON. `mode = upsert` adds `ON
 * DUPLICATE KEY UPDATE` for `update_columns` (default: every column), `mode = ignore` is `INSERT
 * IGNORE`.
 *
 * A `BatchSink`: each event's delivery is settled once the statement holding its row succeeded. A
 * statement that fails because of rows (a duplicate key, a NULL in a NOT NULL column, a value too
 * long, a foreign key or CHECK constraint) is split in halves, again and again, so every good row is
 * stored and each bad one is reported alone, with its row and the server's reason, as a
 * `MySQLRowError` through the pipeline's error handling (hard by default: the pipeline stops; soft or
 * routed: the event is dropped or routed and confirmed). Transient errors (the server down or gone
 * away, a deadlock) are tried again with backoff for `delivery_timeout` seconds; other statement
 * errors (no such table) fail the batch's events through the error handling.
 *
 * A batch holds at most `batch_size` rows and `batch_bytes` bytes and waits at most `flush_interval`
 * seconds to fill. The pipeline is throttled while the sink holds `watermark.high` events or
 * `watermark.high_bytes` bytes, until both are under their low watermarks. `stop()` writes what is left.
 */
export class MySQLSink extends BatchSink<Record<string, unknown>, Row> {
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

  readonly connection: MySQLConnection;
  readonly table: string;
  readonly columns: readonly string[];
  readonly keys: readonly string[];
  readonly mode: (typeof MODES)[number];
  /** The statement, with `VALUES ?` taking the rows. */
  readonly statement: string;

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
    this.limits = this.configuredLimits();
  }

  protected override get target(): string {
    return `MySQL table ${this.table}`;
  }

  process(context: Context, event: Record<string, unknown>): void {
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new MySQLEventError(`the event must be an object of column values, got ${Array.isArray(event) ? "an array" : event === null ? "null" : typeof event}`);
    }
    const values = this.keys.map((key) => toParameter(event[key]));
    this.enqueue(context, event, values, estimate(values));
  }

  protected async send(batch: readonly BatchEntry<Row>[]): Promise<BatchOutcome> {
    await this.connection.acquire().query(this.statement, [batch.map((entry) => entry.payload)]);
  }

  protected override isTransient(error: unknown): boolean {
    return isTransient(error);
  }

  protected override refusesEntries(error: unknown): boolean {
    return isRowError(error);
  }

  protected override deliveryError(message: string, events: number, cause: unknown): Error {
    return new MySQLDeliveryError(message, events, { cause });
  }

  /** One bad row, with its values by column and the server's reason. */
  protected override rejectError(entry: BatchEntry<Row>, reason: Error): Error {
    const named: Record<string, unknown> = {};
    this.columns.forEach((column, i) => {
      named[column] = entry.payload[i];
    });
    return new MySQLRowError(this.table, named, reason);
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Table: this.table, Mode: this.mode };
  }
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
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

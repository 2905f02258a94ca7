/**
 * Every error @pump/mysql raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type MySQLErrorCode = "PUMP_MYSQL_ROW" | "PUMP_MYSQL_DELIVERY" | "PUMP_MYSQL_QUERY" | "PUMP_MYSQL_EVENT";

/** What the server said: mysql2's `code` (`ER_DUP_ENTRY`), `errno` (1062), `sqlState` and `sqlMessage`. */
export interface ServerReason {
  code: string | undefined;
  errno: number | undefined;
  sqlState: string | undefined;
  sqlMessage: string | undefined;
}

/** The server's reason, read off a mysql2 error (all undefined for other errors). */
export function serverReason(error: unknown): ServerReason {
  const e = (error ?? {}) as Partial<Record<keyof ServerReason, unknown>>;
  return {
    code: typeof e.code === "string" ? e.code : undefined,
    errno: typeof e.errno === "number" ? e.errno : undefined,
    sqlState: typeof e.sqlState === "string" ? e.sqlState : undefined,
    sqlMessage: typeof e.sqlMessage === "string" ? e.sqlMessage : undefined,
  };
}

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the MySQL
 * codes are passed through a cast; `code` still reads as one of `MySQLErrorCode`.)
 */
export class MySQLError extends PumpError {
  constructor(code: MySQLErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get mysqlCode(): MySQLErrorCode {
    return this.code as unknown as MySQLErrorCode;
  }
}

/** One row the server refused (a constraint violation, a value that does not fit): the row, and why. */
export class MySQLRowError extends MySQLError {
  /** The table the row was for. */
  readonly table: string;
  /** The row as it was sent: column → value. */
  readonly row: Readonly<Record<string, unknown>>;
  /** The server's words (`Duplicate entry '7' for key 'PRIMARY'`). */
  readonly reason: string;
  readonly server: ServerReason;

  constructor(table: string, row: Record<string, unknown>, cause: unknown) {
    const server = serverReason(cause);
    const reason = server.sqlMessage ?? (cause instanceof Error ? cause.message : String(cause));
    super("PUMP_MYSQL_ROW", `row refused by ${table}: ${reason}${server.code === undefined ? "" : ` (${server.code})`}; row ${describeRow(row)}`, { cause });
    this.table = table;
    this.row = row;
    this.reason = reason;
    this.server = server;
  }
}

/** The sink gave up on events: a statement error that is not about a row (a missing table, access denied), or transient errors for longer than `delivery_timeout`. */
export class MySQLDeliveryError extends MySQLError {
  /** How many events were given up on together. */
  readonly events: number;
  readonly server: ServerReason;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_MYSQL_DELIVERY", message, options);
    this.events = events;
    this.server = serverReason(options?.cause);
  }
}

/** The source's query failed (after the connection was made; a server down at the start is waited for). */
export class MySQLQueryError extends MySQLError {
  readonly server: ServerReason;

  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_MYSQL_QUERY", message, options);
    this.server = serverReason(options?.cause);
  }
}

/** An event the sink cannot map to a row (not an object). */
export class MySQLEventError extends MySQLError {
  constructor(message: string) {
    super("PUMP_MYSQL_EVENT", message);
  }
}

const MAX_SHOWN = 200;

function describeRow(row: Record<string, unknown>): string {
  let text: string;
  try {
    const shown = Object.fromEntries(
      Object.entries(row).map(([column, value]) => [column, typeof value === "bigint" ? value.toString() : Buffer.isBuffer(value) ? `<${value.length} bytes>` : value]),
    );
    text = JSON.stringify(shown);
  } catch {
    text = String(row);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

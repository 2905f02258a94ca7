/**
 * Structured logging with context: every record carries the logger's bound fields (pipeline,
 * component, connection...) so an error always says where it happened.
 */

export type LogLevel = "debug" | "info" | "notice" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, notice: 25, warn: 30, error: 40 };

export function isLogLevel(name: string): name is LogLevel {
  return Object.hasOwn(RANK, name);
}

export interface LogRecord {
  /** Epoch milliseconds. */
  time: number;
  level: LogLevel;
  logger: string;
  message: string;
  fields: Readonly<Record<string, unknown>>;
}

export type LogWriter = (record: LogRecord) => void;

function formatValue(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return JSON.stringify(typeof code === "string" ? `${value.message} (${value.name} ${code})` : `${value.message} (${value.name})`);
  }
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One line per record on stderr; the stack of an error-level record follows it, indented. */
export function formatRecord(record: LogRecord): string {
  let line = `${new Date(record.time).toISOString()} ${record.level.toUpperCase().padEnd(6)} ${record.logger} ${record.message}`;
  let stack: string | undefined;
  for (const key in record.fields) {
    const value = record.fields[key];
    if (value === undefined) continue;
    line += ` ${key}=${formatValue(value)}`;
    if (value instanceof Error && record.level === "error" && value.stack !== undefined) stack = value.stack;
  }
  return stack === undefined ? line : `${line}\n  ${stack.split("\n").join("\n  ")}`;
}

const stderrWriter: LogWriter = (record) => {
  process.stderr.write(`${formatRecord(record)}\n`);
};

/** Process-wide logging settings: the threshold and where records go (tests swap the writer). */
export const logging = {
  level: "notice" as LogLevel,
  writer: stderrWriter,
  setLevel(level: LogLevel): void {
    if (!isLogLevel(level)) throw new TypeError(`Unknown log level '${level}'`);
    this.level = level;
  },
  setWriter(writer: LogWriter | undefined): void {
    this.writer = writer ?? stderrWriter;
  },
  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  },
};

export class Logger {
  readonly name: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** Sees every record of this logger and its children, whatever the level (a pipeline keeps its recent ones). */
  readonly #tap: LogWriter | undefined;

  constructor(name: string, fields: Record<string, unknown> = {}, tap?: LogWriter) {
    this.name = name;
    this.fields = fields;
    this.#tap = tap;
  }

  child(fields: Record<string, unknown>, name: string = this.name, tap: LogWriter | undefined = this.#tap): Logger {
    return new Logger(name, { ...this.fields, ...fields }, tap);
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const tapped = this.#tap !== undefined;
    if (!tapped && !logging.enabled(level)) return;
    const record: LogRecord = {
      time: Date.now(),
      level,
      logger: this.name,
      message,
      fields: fields === undefined ? this.fields : { ...this.fields, ...fields },
    };
    this.#tap?.(record);
    if (logging.enabled(level)) logging.writer(record);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }

  notice(message: string, fields?: Record<string, unknown>): void {
    this.log("notice", message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
}

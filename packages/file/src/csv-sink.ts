import { createWriteStream, type WriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { deliveryOf, Sink, type Delivery, type ConfigValues, type Context, type Pipeline, type PumpApplication, type ComponentOptions } from "@pump/core";
import { DIALECT_DEFAULTS, QUOTE_ALL, QUOTE_NONE, QUOTE_NONNUMERIC, readDialect, type CsvDialect } from "./csv-dialect.js";
import { FileWriteError } from "./errors.js";

function settle(row: PendingRow, error: FileWriteError | undefined): void {
  if (row.settled) return;
  row.settled = true;
  if (error === undefined) row.delivery?.done();
  else row.delivery?.fail(error);
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  return JSON.stringify(value);
}

/**
 * One row in the dialect, as Python's csv writer formats it: fields quoted when `quoting` asks
 * (QUOTE_MINIMAL: only those holding the delimiter, the quote character, "\r" or "\n"), quotes inside
 * doubled (`doublequote`) or escaped with `escapechar`; with QUOTE_NONE special characters are escaped.
 */
export function formatCsvRow(values: readonly unknown[], dialect: CsvDialect): string {
  const { delimiter, quotechar, escapechar, doublequote, quoting } = dialect;
  const fields: string[] = [];
  for (const value of values) {
    const field = text(value);
    let quote: boolean;
    if (quoting === QUOTE_ALL) quote = true;
    else if (quoting === QUOTE_NONNUMERIC) quote = typeof value !== "number" && typeof value !== "bigint";
    else if (quoting === QUOTE_NONE) quote = false;
    else {
      quote = field.includes(delimiter) || field.includes(quotechar) || field.includes("\n") || field.includes("\r");
      if (field === "" && values.length === 1) quote = true; // an empty single field must not read as a blank line
    }
    if (!quote) {
      if (quoting === QUOTE_NONE || (!doublequote && escapechar !== undefined)) {
        fields.push(escapeSpecials(field, dialect, quoting === QUOTE_NONE));
      } else fields.push(field);
      continue;
    }
    let inner = field;
    if (escapechar !== undefined) inner = inner.split(escapechar).join(escapechar + escapechar);
    if (inner.includes(quotechar)) {
      if (doublequote) inner = inner.split(quotechar).join(quotechar + quotechar);
      else if (escapechar !== undefined) inner = inner.split(quotechar).join(escapechar + quotechar);
      else throw new FileWriteError(undefined, `a field holds the quote character and there is no escapechar (doublequote = false): ${JSON.stringify(field)}`);
    }
    fields.push(quotechar + inner + quotechar);
  }
  return fields.join(delimiter) + dialect.lineterminator;
}

/** QUOTE_NONE (or no doublequote): the delimiter, quote character and line breaks are escaped with `escapechar`. */
function escapeSpecials(field: string, dialect: CsvDialect, none: boolean): string {
  const { delimiter, quotechar, escapechar } = dialect;
  const specials = none ? [escapechar, delimiter, quotechar, "\r", "\n"] : [escapechar, quotechar];
  let out = "";
  for (const c of field) {
    if (specials.includes(c)) {
      if (escapechar === undefined) throw new FileWriteError(undefined, `need to escape ${JSON.stringify(c)} but there is no escapechar (quoting = QUOTE_NONE)`);
      out += escapechar;
    }
    out += c;
  }
  return out;
}

interface Writer {
  filename: string;
  stream: WriteStream;
  fieldnames: readonly string[];
  full: boolean;
  /** Set when the stream failed: its next use reopens it. */
  failed: unknown;
  /** Rows written to the stream and not yet confirmed, oldest first. */
  pending: PendingRow[];
}

interface PendingRow {
  delivery: Delivery | undefined;
  settled: boolean;
}

/**
 * Writes rows (plain objects) to CSV files (BSPump's FileCSVSink): the file is `context.path` when the
 * event's context has one, else `path` (override `getFileName()` for more); a file is opened on its first
 * row, truncated, and gets that row's keys as its header; later rows must not have other keys (missing
 * ones are written empty). `rotate()` closes the files, so the next row starts a new one. Writes are
 * buffered: each row's delivery is confirmed once it is written to the file, and the pipeline is
 * throttled while a file's write buffer (`write_buffer_size` bytes) is full. At most `max_open_files`
 * files are open at once; one closed for room is reopened for appending, its header kept.
 */
export class FileCSVSink extends Sink<Record<string, unknown>> {
  static override ConfigDefaults: ConfigValues = {
    path: "",
    ...DIALECT_DEFAULTS,
    lineterminator: "\\n", // BSPump writes os.linesep
    write_buffer_size: 65536,
    max_open_files: 64,
  };

  override readonly confirmsDelivery = true;
  readonly dialect: CsvDialect;
  readonly #writers = new Map<string, Writer>();
  /** Header of every file opened since the last rotate, so a file reopened for appending keeps it. */
  readonly #headers = new Map<string, readonly string[]>();
  readonly #closing = new Set<Promise<void>>();
  readonly #bufferSize: number;
  readonly #maxOpen: number;
  #throttled = false;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.dialect = readDialect(this.config);
    this.#bufferSize = Math.max(1, this.config.getInt("write_buffer_size"));
    this.#maxOpen = Math.max(1, this.config.getInt("max_open_files"));
  }

  /** The file an event goes to: `context.path`, else the `path` key. */
  getFileName(context: Context, _event: Record<string, unknown>): string {
    const path = context.path;
    return typeof path === "string" && path !== "" ? path : this.config.get("path");
  }

  process(context: Context, event: Record<string, unknown>): void {
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new FileWriteError(undefined, `a CSV row must be an object of field → value, got ${Array.isArray(event) ? "an array" : typeof event}`);
    }
    const filename = this.getFileName(context, event);
    if (filename === "") throw new FileWriteError(undefined, "no file name: set `path` or `context.path`");
    const writer = this.#writer(filename, event);
    const fieldnames = writer.fieldnames;
    for (const key in event) {
      if (!fieldnames.includes(key)) throw new FileWriteError(filename, `the row has a field '${key}' the header does not have (${fieldnames.join(", ")})`);
    }
    const line = formatCsvRow(
      fieldnames.map((name) => event[name]),
      this.dialect,
    );
    const row: PendingRow = { delivery: deliveryOf(context), settled: false };
    writer.pending.push(row);
    const ok = writer.stream.write(line, (error) => {
      if (error === undefined || error === null) settle(row, undefined);
      else settle(row, new FileWriteError(filename, "cannot write", { cause: error }));
      while (writer.pending[0]?.settled === true) writer.pending.shift();
    });
    if (!ok && !writer.full) {
      writer.full = true;
      this.#updateThrottle();
      writer.stream.once("drain", () => {
        writer.full = false;
        this.#updateThrottle();
      });
    }
  }

  /** Closes every open file (their buffered rows are written first); the next row opens its file anew. */
  async rotate(): Promise<void> {
    for (const writer of this.#writers.values()) this.#close(writer); // deleting the entry being visited is safe
    this.#headers.clear();
    while (this.#closing.size > 0) await Promise.allSettled(this.#closing);
  }

  override async stop(): Promise<void> {
    await this.rotate();
  }

  #writer(filename: string, event: Record<string, unknown>): Writer {
    const open = this.#writers.get(filename);
    if (open !== undefined && open.failed === undefined) {
      // most recently used last
      this.#writers.delete(filename);
      this.#writers.set(filename, open);
      return open;
    }
    if (open !== undefined) this.#close(open);
    const known = this.#headers.get(filename);
    const fieldnames = known ?? Object.keys(event);
    const stream = createWriteStream(filename, { flags: known === undefined ? "w" : "a", highWaterMark: this.#bufferSize });
    const writer: Writer = { filename, stream, fieldnames, full: false, failed: undefined, pending: [] };
    stream.on("error", (error) => {
      writer.failed = error;
      this.log.error("Cannot write CSV file", { filename, error });
      if (writer.full) {
        writer.full = false;
        this.#updateThrottle();
      }
    });
    // A stream that failed (it could not even be opened) may drop the callbacks of what it held.
    stream.on("close", () => {
      const reason = new FileWriteError(filename, "cannot write", { cause: writer.failed ?? new Error("the file was closed before the row was written") });
      for (const row of writer.pending.splice(0)) settle(row, reason);
    });
    if (known === undefined) {
      this.#headers.set(filename, fieldnames);
      stream.write(formatCsvRow(fieldnames, this.dialect));
    }
    this.#writers.set(filename, writer);
    while (this.#writers.size > this.#maxOpen) this.#close(this.#writers.values().next().value!);
    return writer;
  }

  #close(writer: Writer): void {
    this.#writers.delete(writer.filename);
    writer.stream.end();
    // finished() also settles for a stream that already failed and closed
    const closed = finished(writer.stream)
      .catch(() => {})
      .finally(() => this.#closing.delete(closed));
    this.#closing.add(closed);
    if (writer.full) {
      writer.full = false;
      this.#updateThrottle();
    }
  }

  #updateThrottle(): void {
    let full = false;
    for (const writer of this.#writers.values()) full ||= writer.full;
    if (full !== this.#throttled) {
      this.#throttled = full;
      this.pipeline.throttle(this, full);
    }
  }
}

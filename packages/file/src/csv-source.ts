import { parse, type CsvError, type Info, type Options, type Parser } from "csv-parse";
import type { ComponentOptions, ConfigValues, Pipeline, PumpApplication } from "@pump/core";
import { DIALECT_DEFAULTS, QUOTE_NONE, QUOTE_NONNUMERIC, readDialect, type CsvDialect } from "./csv-dialect.js";
import { FileEncodingError, FileFormatError, FileRecordTooLargeError, type FileRecordError } from "./errors.js";
import { FileABCSource, type FileInput } from "./file-source.js";
import { LineSplitter, countNewlines, emptyLines } from "./text.js";

/** A CSV row: field name → value (a number for unquoted fields under `quoting = 2`). */
export type CsvRow = Record<string, string | number>;

interface ParsedRecord {
  record: CsvRow;
  raw: string;
  info: Info;
}

/** An unquoted field that is not a number under QUOTE_NONNUMERIC. */
const NOT_A_NUMBER = Symbol("not a number");

function countCrLf(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\r\n"); i >= 0; i = text.indexOf("\r\n", i + 2)) n++;
  return n;
}

/** Line breaks inside a record's fields, the "\r\n" among them, and the first field that failed QUOTE_NONNUMERIC. */
function measure(fields: Record<string, unknown> | readonly unknown[]): { newlines: number; crlf: number; notNumber: string | undefined } {
  let newlines = 0;
  let crlf = 0;
  let notNumber: string | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "string") {
      newlines += countNewlines(value);
      crlf += countCrLf(value);
    } else if (value === NOT_A_NUMBER) notNumber ??= key;
  }
  return { newlines, crlf, notNumber };
}

/**
 * Reads CSV files into one object per row (BSPump's FileCSVSource, Python's `csv.DictReader`): field
 * names from the header line, or from `fieldnames` (then the first line is data). Parsed with
 * `csv-parse`, streamed: one batch per read buffer. The dialect comes from config (`dialect`,
 * `delimiter`, `quotechar`, `doublequote`, `escapechar`, `skipinitialspace`, `quoting`, `strict`).
 * A row with the wrong number of fields, a broken quote or bytes that do not decode is reported with
 * its file and line through the pipeline's error handling, and reading goes on with the next row.
 * Blank lines are skipped. Context: `{ filename, line }` (the line where the row starts).
 */
export class FileCSVSource extends FileABCSource<CsvRow> {
  static override ConfigDefaults: ConfigValues = { mode: "r", ...DIALECT_DEFAULTS };

  readonly dialect: CsvDialect;
  readonly fieldnames: readonly string[] | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, fieldnames?: readonly string[] | null, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.dialect = readDialect(this.config);
    this.fieldnames = fieldnames ?? undefined;
  }

  /** csv-parse options for the dialect. */
  parserOptions(): Options {
    const d = this.dialect;
    const options: Options = {
      columns: this.fieldnames === undefined ? true : [...this.fieldnames],
      info: true,
      raw: true,
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      delimiter: d.delimiter,
      // csv-parse has one escape character, used inside quoted fields: the doubled quote, or `escapechar`.
      quote: d.quoting === QUOTE_NONE ? false : d.quotechar,
      escape: d.doublequote ? d.quotechar : (d.escapechar ?? null),
      ltrim: d.skipinitialspace,
      relax_quotes: !d.strict,
      max_record_size: this.maxRecordSize,
    };
    if (d.quoting === QUOTE_NONNUMERIC) {
      options.cast = (value, context) => {
        if (context.quoting || context.header) return value;
        const number = Number(value);
        return value.trim() === "" || Number.isNaN(number) ? NOT_A_NUMBER : number;
      };
    }
    return options;
  }

  protected async read(file: FileInput): Promise<void> {
    const parser: Parser = parse(this.parserOptions());
    /** Records csv-parse skipped, each with the index of the record that follows it (so reports keep the file's order). */
    const skipped: { error: CsvError; raw: string | undefined; before: number }[] = [];
    let consumed = 0;
    parser.on("skip", (error: CsvError, raw?: string) => skipped.push({ error, raw, before: consumed + parser.readableLength }));
    parser.on("error", () => {}); // seen through `parser.errored`
    const splitter = new LineSplitter(this.maxRecordSize);
    const found = emptyLines();
    /** Lines that did not decode or were too long: a row over one of them is dropped (the line is reported instead). */
    const bad = new Set<number>();
    /** Their reports, made when the parse passes them, so that reports and rows keep the file's order. */
    const badReports: { line: number; error: FileRecordError; raw: unknown }[] = [];
    /** csv-parse counts a "\r\n" inside a quoted field as two lines: what it over-counted so far. */
    let overCounted = 0;

    const feed = async (last: boolean): Promise<void> => {
      let text = "";
      const { lines, numbers, tooLong } = found;
      let t = 0;
      for (let i = 0; i < lines.length; i++) {
        const number = numbers[i]!;
        for (; t < tooLong.length && tooLong[t]! < number; t++) text += this.#tooLong(file, tooLong[t]!, bad, badReports);
        const decoded = this.decoder.decode(lines[i]!);
        if (decoded !== undefined) text += decoded;
        else {
          bad.add(number);
          badReports.push({ line: number, error: new FileEncodingError(file.filename, number, this.decoder.encoding), raw: lines[i] });
          text += new TextDecoder(this.decoder.encoding).decode(lines[i]); // keeps the line count and the quoting in step
        }
      }
      for (; t < tooLong.length; t++) text += this.#tooLong(file, tooLong[t]!, bad, badReports);
      lines.length = 0;
      numbers.length = 0;
      tooLong.length = 0;
      if (text !== "") parser.write(text);
      if (last) {
        const finished = new Promise<void>((resolve) => parser.once("finish", resolve).once("error", () => resolve()));
        parser.end();
        await finished;
      }
      if (parser.errored !== null) throw new FileFormatError(file.filename, undefined, parser.errored.message, { cause: parser.errored });

      const events: CsvRow[] = [];
      const starts: number[] = [];
      const report = async (line: number | undefined, problem: string, raw: unknown, cause?: unknown): Promise<void> => {
        await reportBad(line ?? 0);
        await this.emit(file, events.splice(0), starts.splice(0));
        this.malformed(file, new FileFormatError(file.filename, line, problem, { cause }), raw);
      };
      const reportBad = async (upTo: number): Promise<void> => {
        while (badReports.length > 0 && badReports[0]!.line <= upTo) {
          const { error, raw } = badReports.shift()!;
          await this.emit(file, events.splice(0), starts.splice(0));
          this.malformed(file, error, raw);
        }
      };
      const reportSkipped = async (upTo: number): Promise<void> => {
        while (skipped.length > 0 && skipped[0]!.before <= upTo) {
          const { error, raw } = skipped.shift()!;
          const fields = (error as CsvError & { record?: unknown }).record;
          const { newlines, crlf } = Array.isArray(fields) ? measure(fields) : { newlines: 0, crlf: 0 };
          overCounted += crlf;
          const at = (error as CsvError & { lines?: unknown }).lines;
          // csv-parse's message ends with its own line count, which is off after a "\r\n" inside quotes
          await report(typeof at === "number" ? at - overCounted - newlines : undefined, error.message.replace(/\s+(?:on|at) line \d+/, ""), raw, error);
        }
      };
      for (let record = parser.read() as ParsedRecord | null; record !== null; record = parser.read() as ParsedRecord | null) {
        await reportSkipped(consumed); // rows skipped before this one
        consumed++;
        const row = record.record;
        const { newlines, crlf, notNumber } = measure(row);
        overCounted += crlf;
        const end = record.info.lines - overCounted;
        const start = end - newlines;
        await reportBad(end);
        let hit = false;
        for (let line = start; line <= end && !hit; line++) hit = bad.has(line);
        if (hit) continue; // its bad line was reported already
        if (notNumber !== undefined) {
          await report(start, `field '${notNumber}' is not quoted and not a number (quoting = QUOTE_NONNUMERIC)`, record.raw);
          continue;
        }
        events.push(row);
        starts.push(start);
      }
      await reportSkipped(Infinity);
      if (last) await reportBad(Infinity);
      await this.emit(file, events, starts);
    };

    for await (const chunk of file.chunks()) {
      splitter.push(chunk, found);
      await feed(false);
    }
    splitter.end(found);
    await feed(true);
  }

  /** Reports a line too long to keep; csv-parse is fed an empty line in its place so the line numbers stay right. */
  #tooLong(file: FileInput, line: number, bad: Set<number>, reports: { line: number; error: FileRecordError; raw: unknown }[]): string {
    bad.add(line);
    reports.push({ line, error: new FileRecordTooLargeError(file.filename, line, this.maxRecordSize), raw: undefined });
    return "\n";
  }
}

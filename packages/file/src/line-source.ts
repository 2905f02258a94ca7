import type { ComponentOptions, ConfigValues, Pipeline, PumpApplication } from "@pump/core";
import { FileEncodingError, FileRecordTooLargeError } from "./errors.js";
import { FileABCSource, type FileInput } from "./file-source.js";
import { LineSplitter, emptyLines, type Lines } from "./text.js";

/** A line: bytes in mode "rb" (the default), text decoded with `encoding` in mode "r". */
export type Line = Buffer | string;

/** Collects a batch of events with their line numbers, interleaved with reports of bad records. */
class BatchBuilder<Out> {
  events: Out[] = [];
  lines: number[] = [];

  push(event: Out, line: number): void {
    this.events.push(event);
    this.lines.push(line);
  }

  take(): [Out[], number[]] {
    const taken: [Out[], number[]] = [this.events, this.lines];
    this.events = [];
    this.lines = [];
    return taken;
  }
}

/**
 * One event per line, the line terminator included (BSPump's FileLineSource): `Buffer`s by default,
 * strings with `mode = r`. One batch per read buffer. A line that does not decode, or is longer than
 * `max_record_size`, is reported with its file and line through the pipeline's error handling.
 * Context: `{ filename, line }`.
 */
export class FileLineSource extends FileABCSource<Line> {
  protected async read(file: FileInput): Promise<void> {
    const splitter = new LineSplitter(this.maxRecordSize);
    const found = emptyLines();
    for await (const chunk of file.chunks()) {
      splitter.push(chunk, found);
      await this.#deliver(file, found);
    }
    splitter.end(found);
    await this.#deliver(file, found);
  }

  async #deliver(file: FileInput, found: Lines): Promise<void> {
    const batch = new BatchBuilder<Line>();
    const { lines, numbers, tooLong } = found;
    let t = 0;
    for (let i = 0; i < lines.length; i++) {
      const number = numbers[i]!;
      while (t < tooLong.length && tooLong[t]! < number) {
        await this.emit(file, ...batch.take());
        this.malformed(file, new FileRecordTooLargeError(file.filename, tooLong[t++], this.maxRecordSize), undefined);
      }
      const bytes = lines[i]!;
      if (!this.text) {
        batch.push(bytes, number);
        continue;
      }
      const text = this.decoder.decode(bytes);
      if (text !== undefined) batch.push(text, number);
      else {
        await this.emit(file, ...batch.take());
        this.malformed(file, new FileEncodingError(file.filename, number, this.decoder.encoding), bytes);
      }
    }
    await this.emit(file, ...batch.take());
    for (; t < tooLong.length; t++) this.malformed(file, new FileRecordTooLargeError(file.filename, tooLong[t], this.maxRecordSize), undefined);
    lines.length = 0;
    numbers.length = 0;
    tooLong.length = 0;
  }
}

/**
 * Joins lines into events (BSPump's FileMultiLineSource): a line that starts with `separator` begins a
 * new event, the lines after it up to the next such line belong to it, kept as they are in the file
 * (BSPump also inserts an extra "\n" between them; this does not). Lines before the first separator
 * form an event of their own. `separator` is the constructor's argument or the `separator` key.
 * Context: `{ filename, line }`, the line where the event starts, on every event.
 */
export class FileMultiLineSource extends FileABCSource<Line> {
  static override ConfigDefaults: ConfigValues = { separator: "" };

  readonly separator: Buffer;

  constructor(app: PumpApplication, pipeline: Pipeline, separator?: string | Uint8Array, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const given = separator ?? this.config.get("separator");
    this.separator = typeof given === "string" ? Buffer.from(given, "utf8") : Buffer.from(given);
    if (this.separator.length === 0) throw new TypeError(`${this.constructor.name} '${this.id}': the separator is empty`);
  }

  protected async read(file: FileInput): Promise<void> {
    const splitter = new LineSplitter(this.maxRecordSize);
    const found = emptyLines();
    const latch: Latch = { parts: [], size: 0, line: 0, tooLarge: false };
    for await (const chunk of file.chunks()) {
      splitter.push(chunk, found);
      await this.#deliver(file, found, latch, false);
    }
    splitter.end(found);
    await this.#deliver(file, found, latch, true);
  }

  async #deliver(file: FileInput, found: Lines, latch: Latch, last: boolean): Promise<void> {
    const batch = new BatchBuilder<Line>();
    const { lines, numbers, tooLong } = found;
    const separator = this.separator;
    let t = 0;
    // A line too long to keep makes its event too large; it never starts an event (its start is lost).
    const close = async (): Promise<void> => {
      if (latch.size === 0 && !latch.tooLarge) return;
      const start = latch.line;
      const parts = latch.parts;
      const tooLarge = latch.tooLarge;
      latch.parts = [];
      latch.size = 0;
      latch.tooLarge = false;
      if (tooLarge) {
        await this.emit(file, ...batch.take());
        this.malformed(file, new FileRecordTooLargeError(file.filename, start, this.maxRecordSize), undefined);
        return;
      }
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (!this.text) return batch.push(bytes, start);
      const text = this.decoder.decode(bytes);
      if (text !== undefined) return batch.push(text, start);
      await this.emit(file, ...batch.take());
      this.malformed(file, new FileEncodingError(file.filename, start, this.decoder.encoding), bytes);
    };
    const append = (line: Buffer | undefined, number: number): void => {
      if (latch.size === 0 && !latch.tooLarge) latch.line = number;
      if (line === undefined || latch.tooLarge || latch.size + line.length > this.maxRecordSize) {
        latch.tooLarge = true;
        latch.parts = [];
        latch.size = 0;
        return;
      }
      latch.parts.push(line);
      latch.size += line.length;
    };
    for (let i = 0; i < lines.length; i++) {
      const number = numbers[i]!;
      while (t < tooLong.length && tooLong[t]! < number) append(undefined, tooLong[t++]!);
      const line = lines[i]!;
      const starts = line.length >= separator.length && line.compare(separator, 0, separator.length, 0, separator.length) === 0;
      if (starts) await close();
      append(line, number);
    }
    for (; t < tooLong.length; t++) append(undefined, tooLong[t]!);
    if (last) await close();
    await this.emit(file, ...batch.take());
    lines.length = 0;
    numbers.length = 0;
    tooLong.length = 0;
  }
}

interface Latch {
  parts: Buffer[];
  size: number;
  line: number;
  tooLarge: boolean;
}

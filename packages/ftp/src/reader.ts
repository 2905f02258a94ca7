import { TextDecoder } from "node:util";

/** How a downloaded file becomes events. */
export type FTPFormat = "lines" | "block" | "chunks";

/** One event and the line it starts on (format `lines`). */
export interface Item<Out> {
  value: Out;
  line: number | undefined;
}

/** A record that cannot become an event: the line (if any), what is wrong, its first bytes. */
export interface Malformed {
  line: number | undefined;
  problem: string;
  raw: Buffer | undefined;
  cause?: unknown;
}

/** What a piece of a file gives, in file order: events and malformed records. */
export type Entry<Out> = Item<Out> | Malformed;

export function isMalformed<Out>(entry: Entry<Out>): entry is Malformed {
  return "problem" in entry;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Turns a file's bytes, piece by piece, into events: lines ("\n" or "\r\n", a last line without
 * one included), the whole file, or each piece. Events are Buffers, or strings when an encoding is
 * given. Bounded memory: a line longer than `maxLineSize` is reported and skipped, not kept; a block
 * larger than `maxBlockSize` likewise.
 */
export class Splitter<Out> {
  readonly #format: FTPFormat;
  readonly #decoder: TextDecoder | undefined;
  readonly #maxLine: number;
  readonly #maxBlock: number;
  /** What the current piece gave so far, in order. */
  #out: Entry<Out>[] = [];
  #rest: Buffer[] = [];
  #restSize = 0;
  #line = 0;
  #skipping = false;
  #tooLarge = false;

  constructor(format: FTPFormat, encoding: string | undefined, maxLineSize: number, maxBlockSize: number) {
    this.#format = format;
    this.#decoder = encoding === undefined ? undefined : new TextDecoder(encoding, { fatal: true });
    this.#maxLine = maxLineSize;
    this.#maxBlock = maxBlockSize;
  }

  /** The events (and malformed records) a piece completes, in order. */
  take(chunk: Buffer): Entry<Out>[] {
    this.#out = [];
    this.#take(chunk);
    return this.#out;
  }

  /** The events (and malformed records) the end of the file completes. */
  end(): Entry<Out>[] {
    this.#out = [];
    this.#end();
    return this.#out;
  }

  #report(line: number | undefined, problem: string, raw: Buffer | undefined, cause?: unknown): void {
    this.#out.push({ line, problem, raw, ...(cause === undefined ? {} : { cause }) });
  }

  #take(chunk: Buffer): void {
    if (this.#format === "chunks") {
      const value = this.#decode(undefined, chunk, true);
      if (value !== undefined && value !== "") this.#out.push({ value, line: undefined });
      return;
    }
    if (this.#format === "block") {
      this.#restSize += chunk.length;
      if (this.#restSize > this.#maxBlock) {
        if (!this.#tooLarge) this.#report(undefined, `the file has more than max_block_size (${this.#maxBlock}) bytes`, undefined);
        this.#tooLarge = true;
        this.#rest = [];
      } else this.#rest.push(Buffer.from(chunk));
      return;
    }
    this.#lines(chunk);
  }

  #end(): void {
    if (this.#format === "chunks") {
      const value = this.#decode(undefined, Buffer.alloc(0), false);
      if (value !== undefined && value !== "") this.#out.push({ value, line: undefined });
      return;
    }
    if (this.#format === "block") {
      if (this.#tooLarge) return;
      const value = this.#decode(undefined, Buffer.concat(this.#rest), false);
      this.#rest = [];
      if (value !== undefined) this.#out.push({ value, line: undefined });
      return;
    }
    if (this.#skipping || this.#restSize === 0) return;
    this.#finishLine(Buffer.concat(this.#rest));
    this.#rest = [];
    this.#restSize = 0;
  }

  #lines(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const at = chunk.indexOf(NEWLINE, start);
      if (at === -1) break;
      const piece = chunk.subarray(start, at);
      start = at + 1;
      if (this.#skipping) {
        // The end of a line already reported as too long.
        this.#skipping = false;
        this.#line++;
        continue;
      }
      const whole = this.#restSize === 0 ? piece : Buffer.concat([...this.#rest, piece]);
      this.#rest = [];
      this.#restSize = 0;
      this.#finishLine(whole);
    }
    if (start < chunk.length && !this.#skipping) {
      const tail = chunk.subarray(start);
      this.#rest.push(Buffer.from(tail));
      this.#restSize += tail.length;
      if (this.#restSize > this.#maxLine) {
        this.#report(this.#line + 1, `the line has more than max_line_size (${this.#maxLine}) bytes`, Buffer.concat(this.#rest).subarray(0, 256));
        this.#skipping = true;
        this.#rest = [];
        this.#restSize = 0;
      }
    }
  }

  #finishLine(whole: Buffer): void {
    const line = ++this.#line;
    const bytes = whole.length > 0 && whole[whole.length - 1] === CR ? whole.subarray(0, -1) : whole;
    if (bytes.length > this.#maxLine) {
      this.#report(line, `the line has ${bytes.length} bytes, more than max_line_size (${this.#maxLine})`, bytes.subarray(0, 256));
      return;
    }
    const value = this.#decode(line, bytes, false);
    if (value !== undefined) this.#out.push({ value, line });
  }

  #decode(line: number | undefined, bytes: Buffer, stream: boolean): Out | undefined {
    const decoder = this.#decoder;
    if (decoder === undefined) return (bytes.length === 0 && this.#format === "chunks" ? undefined : Buffer.from(bytes)) as Out | undefined;
    try {
      return decoder.decode(bytes, { stream }) as Out;
    } catch (error) {
      this.#report(line, `the bytes are not valid ${decoder.encoding}`, bytes.subarray(0, 256), error);
      return undefined;
    }
  }
}

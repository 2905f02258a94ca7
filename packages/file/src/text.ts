/**
 * Splitting bytes into lines and decoding them, for the sources that read a file line by line. Lines
 * end at "\n" and keep it (a "\r\n" line keeps its "\r"), as Python's binary-mode file iteration does.
 */
import { isUtf8 } from "node:buffer";
import { TextDecoder } from "node:util";

const NEWLINE = 0x0a;

/** Encodings in which "\n" is not the single byte 0x0A: lines could not be found in their bytes. */
const WIDE = /^(utf-?16|utf-?32|ucs-?2|unicode)/i;

/** A strict decoder: `decode` returns undefined for bytes that are not valid in the encoding. */
export class Decoder {
  /** The WHATWG name of the encoding (e.g. "utf-8", "windows-1252"). */
  readonly encoding: string;
  readonly #decoder: TextDecoder | undefined;

  /** Throws RangeError for an unknown encoding or one whose newline is not one byte. */
  constructor(label: string) {
    const name = label.trim() === "" ? "utf-8" : label.trim();
    if (WIDE.test(name)) throw new RangeError(`encoding '${label}' is not supported: lines are split on the byte "\\n", which ${label} does not use`);
    const decoder = new TextDecoder(name, { fatal: true, ignoreBOM: true }); // RangeError when unknown
    this.encoding = decoder.encoding;
    this.#decoder = this.encoding === "utf-8" ? undefined : decoder;
  }

  decode(bytes: Uint8Array): string | undefined {
    if (this.#decoder === undefined) {
      if (!isUtf8(bytes)) return undefined;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    }
    try {
      return this.#decoder.decode(bytes);
    } catch {
      return undefined;
    }
  }
}

/** What one `push` found: complete lines with their 1-based numbers, and the numbers of lines dropped as too long. */
export interface Lines {
  lines: Buffer[];
  numbers: number[];
  tooLong: number[];
}

export function emptyLines(): Lines {
  return { lines: [], numbers: [], tooLong: [] };
}

/**
 * Cuts a stream of chunks into lines. A line longer than `maxSize` bytes is not kept in memory: its
 * bytes are skipped up to its end and its number is reported in `tooLong`.
 */
export class LineSplitter {
  /** The number the next line will have. */
  nextLine = 1;
  readonly #maxSize: number;
  #partial: Buffer[] = [];
  #partialSize = 0;
  #discarding = false;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  push(chunk: Buffer, out: Lines): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl + 1);
      start = nl + 1;
      const number = this.nextLine++;
      if (this.#discarding) {
        this.#discarding = false;
        out.tooLong.push(number);
        continue;
      }
      let line = piece;
      if (this.#partialSize > 0) {
        this.#partial.push(piece);
        line = Buffer.concat(this.#partial, this.#partialSize + piece.length);
        this.#partial = [];
        this.#partialSize = 0;
      }
      if (line.length > this.#maxSize) out.tooLong.push(number);
      else {
        out.lines.push(line);
        out.numbers.push(number);
      }
    }
    if (start < chunk.length && !this.#discarding) {
      this.#partial.push(chunk.subarray(start));
      this.#partialSize += chunk.length - start;
      if (this.#partialSize > this.#maxSize) {
        this.#discarding = true;
        this.#partial = [];
        this.#partialSize = 0;
      }
    }
  }

  /** The last line, when the file does not end with "\n". */
  end(out: Lines): void {
    if (this.#discarding) {
      this.#discarding = false;
      out.tooLong.push(this.nextLine++);
    } else if (this.#partialSize > 0) {
      out.lines.push(Buffer.concat(this.#partial, this.#partialSize));
      out.numbers.push(this.nextLine++);
      this.#partial = [];
      this.#partialSize = 0;
    }
  }
}

/** The number of "\n" in `text`. */
export function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** The number of 0x0A bytes in `bytes[start, end)`. */
export function countNewlineBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE, start); i >= 0 && i < end; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

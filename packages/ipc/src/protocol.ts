/**
 * How a stream server source cuts what one client sends into events (BSPump's SourceProtocolABC). A
 * protocol instance serves one connection: `feed` gets each chunk as it arrives and returns the events
 * it completed; `end` returns what is left when the client closes.
 */
import { isUtf8 } from "node:buffer";
import { TextDecoder } from "node:util";

export interface StreamProtocol<Out> {
  /** The events this chunk completes (possibly none). `tooLong` is called for each line dropped as too long. */
  feed(chunk: Buffer): Out[];
  /** The events left when the client closed its side. */
  end(): Out[];
}

export interface ProtocolOptions {
  /** "bytes" (or "") for Buffers, else the encoding to decode to strings with. */
  decode: string;
  maxLineSize: number;
  /** Called when a line longer than `maxLineSize` was dropped. */
  onTooLong: () => void;
}

/** Makes the protocol of one connection. */
export type ProtocolFactory<Out> = (options: ProtocolOptions) => StreamProtocol<Out>;

const NEWLINE = 0x0a;

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

/** The length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let length: number;
  let min: number;
  let max = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    min = b0 === 0xe0 ? 0xa0 : 0x80; // no overlong forms
    if (b0 === 0xed) max = 0x9f; // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    min = b0 === 0xf0 ? 0x90 : 0x80;
    if (b0 === 0xf4) max = 0x8f; // not above U+10FFFF
  } else return 0;
  if (i + length > bytes.length) return 0;
  const b1 = bytes[i + 1]!;
  if (b1 < min || b1 > max) return 0;
  for (let k = 2; k < length; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return length;
}

/** Decodes UTF-8, writing each invalid byte as `\xNN` (Python's errors="backslashreplace"). */
export function decodeUtf8BackslashReplace(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  let out = "";
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += bytes.toString("utf8", start, i) + hex(bytes[i]!);
    i++;
    start = i;
  }
  return out + bytes.toString("utf8", start, i);
}

/** A function turning one complete piece of bytes into the event type. */
export function lineDecoder(decode: string): ((bytes: Buffer) => string) | undefined {
  const name = decode.trim().toLowerCase();
  if (name === "" || name === "bytes") return undefined;
  const decoder = new TextDecoder(name); // RangeError for an unknown encoding
  if (decoder.encoding === "utf-8") return decodeUtf8BackslashReplace;
  return (bytes) => decoder.decode(bytes);
}

/**
 * BSPump's LineSourceProtocol: one event per line, split on "\n" (which is dropped; a "\r" before it is
 * kept), decoded with `decode` (invalid UTF-8 bytes become `\xNN`) or Buffers with `decode=bytes`. The
 * last line is an event even without "\n" when the client closes. A line longer than `max_line_size`
 * bytes is dropped (and reported), not held.
 */
export class LineProtocol implements StreamProtocol<string | Buffer> {
  readonly #decode: ((bytes: Buffer) => string) | undefined;
  readonly #maxLineSize: number;
  readonly #onTooLong: () => void;
  #partial: Buffer[] = [];
  #partialSize = 0;
  #discarding = false;

  constructor(options: ProtocolOptions) {
    this.#decode = lineDecoder(options.decode);
    this.#maxLineSize = options.maxLineSize;
    this.#onTooLong = options.onTooLong;
  }

  feed(chunk: Buffer): (string | Buffer)[] {
    const events: (string | Buffer)[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#discarding) {
        this.#discarding = false;
        this.#onTooLong();
        continue;
      }
      let line = piece;
      if (this.#partialSize > 0) {
        this.#partial.push(piece);
        line = Buffer.concat(this.#partial, this.#partialSize + piece.length);
        this.#partial = [];
        this.#partialSize = 0;
      }
      if (line.length > this.#maxLineSize) this.#onTooLong();
      else events.push(this.#event(line));
    }
    if (start < chunk.length && !this.#discarding) {
      this.#partial.push(chunk.subarray(start));
      this.#partialSize += chunk.length - start;
      if (this.#partialSize > this.#maxLineSize) {
        this.#discarding = true;
        this.#partial = [];
        this.#partialSize = 0;
      }
    }
    return events;
  }

  end(): (string | Buffer)[] {
    if (this.#discarding) {
      this.#discarding = false;
      this.#onTooLong();
      return [];
    }
    if (this.#partialSize === 0) return [];
    const line = Buffer.concat(this.#partial, this.#partialSize);
    this.#partial = [];
    this.#partialSize = 0;
    return [this.#event(line)];
  }

  #event(line: Buffer): string | Buffer {
    // A copy: the chunk's memory is not kept alive by a short line.
    return this.#decode === undefined ? Buffer.from(line) : this.#decode(line);
  }
}

/**
 * Raw chunks: each piece of data as it arrives from the socket is an event (a Buffer, or a string
 * with `decode` set, in which case a character split between chunks is kept whole).
 */
export class ChunkProtocol implements StreamProtocol<string | Buffer> {
  readonly #decoder: TextDecoder | undefined;

  constructor(options: ProtocolOptions) {
    const name = options.decode.trim().toLowerCase();
    this.#decoder = name === "" || name === "bytes" ? undefined : new TextDecoder(name);
  }

  feed(chunk: Buffer): (string | Buffer)[] {
    if (this.#decoder === undefined) return [chunk];
    const text = this.#decoder.decode(chunk, { stream: true });
    return text === "" ? [] : [text];
  }

  end(): (string | Buffer)[] {
    if (this.#decoder === undefined) return [];
    const text = this.#decoder.decode();
    return text === "" ? [] : [text];
  }
}

export const PROTOCOLS: Readonly<Record<string, ProtocolFactory<string | Buffer>>> = {
  line: (options) => new LineProtocol(options),
  chunk: (options) => new ChunkProtocol(options),
};

/**
 * An incremental JSON parser: text goes in piece by piece (a chunk may end anywhere, inside a string or
 * a number), values come out as they complete, so a document larger than one read buffer is parsed
 * without ever holding its text, and the event loop is never blocked for more than one chunk. Several
 * top-level values in a row (NDJSON, concatenated JSON) are each a value; with `unwrapArray`, the
 * elements of a top-level array come out one by one and the array itself is never built.
 */

export interface ParsedValue {
  value: unknown;
  /** 1-based line where the value starts. */
  line: number;
}

export class JsonSyntaxError extends Error {
  readonly line: number;

  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = "JsonSyntaxError";
    this.line = line;
  }
}

interface Frame {
  /** The array being built, or undefined for an object. */
  array: unknown[] | undefined;
  object: Record<string, unknown> | undefined;
  key: string;
  /** A top-level array whose elements are emitted instead of kept. */
  streaming: boolean;
}

const S_TOP = 0; // between top-level values
const S_VALUE = 1; // a value must come (after "[", ",", ":")
const S_AFTER = 2; // after a value inside a container: "," or the closing bracket
const S_KEY = 3; // a key string must come (after "{" or "," in an object)
const S_COLON = 4;
const S_STRING = 5;
const S_NUMBER = 6;
const S_LITERAL = 7;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
// oxlint-disable-next-line no-control-regex -- control characters are what a JSON string may not hold
const STRING_SPECIAL = /["\\\u0000-\u001f]/g;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LITERALS: Readonly<Record<string, unknown>> = { true: true, false: false, null: null };

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

function isLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function describe(c: string): string {
  return JSON.stringify(c);
}

export class JsonStreamParser {
  readonly unwrapArray: boolean;
  /** The line the parser is at. */
  line = 1;
  #state = S_TOP;
  readonly #stack: Frame[] = [];
  /** After "[" or "{" a closing bracket may come at once; after "," it may not. */
  #mayClose = false;
  #valueLine = 1;
  #parts: string[] = [];
  #escaped = false;
  #hasEscape = false;
  #isKey = false;
  #token = "";
  #started = false;
  /** Where completed values go: the array of the `write` that is running. */
  #out: ParsedValue[] = [];

  constructor(options: { unwrapArray?: boolean } = {}) {
    this.unwrapArray = options.unwrapArray ?? false;
  }

  /** Parses `text`; completed values are pushed to `out`. Throws JsonSyntaxError. */
  write(text: string, out: ParsedValue[]): void {
    this.#out = out;
    let i = 0;
    const n = text.length;
    if (!this.#started && n > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte order mark
    }
    while (i < n) {
      switch (this.#state) {
        case S_STRING: {
          let j = i;
          let closed = false;
          for (;;) {
            if (this.#escaped) {
              if (j >= n) break;
              this.#escaped = false;
              j++;
              continue;
            }
            STRING_SPECIAL.lastIndex = j;
            const m = STRING_SPECIAL.exec(text);
            if (m === null) {
              j = n;
              break;
            }
            j = m.index;
            const c = text.charCodeAt(j);
            if (c === QUOTE) {
              closed = true;
              break;
            }
            if (c === BACKSLASH) {
              this.#hasEscape = true;
              this.#escaped = true;
              j++;
              continue;
            }
            throw new JsonSyntaxError("control character in a string", this.line);
          }
          this.#parts.push(text.slice(i, j));
          if (!closed) {
            i = n;
            break;
          }
          i = j + 1;
          this.#endString();
          break;
        }
        case S_NUMBER: {
          let j = i;
          while (j < n && isNumberChar(text.charCodeAt(j))) j++;
          this.#token += text.slice(i, j);
          i = j;
          if (i < n) this.#endNumber();
          break;
        }
        case S_LITERAL: {
          let j = i;
          while (j < n && isLetter(text.charCodeAt(j))) j++;
          this.#token += text.slice(i, j);
          i = j;
          if (i < n) this.#endLiteral();
          break;
        }
        default: {
          const c = text.charCodeAt(i);
          if (isWhitespace(c)) {
            if (c === 0x0a) this.line++;
            i++;
            break;
          }
          this.#structural(text[i]!, c);
          i++;
        }
      }
    }
  }

  /** The input ended: completes a value still open at top level, or throws if one is cut short. */
  end(out: ParsedValue[]): void {
    this.#out = out;
    if (this.#state === S_NUMBER && this.#stack.length === 0) this.#endNumber();
    else if (this.#state === S_LITERAL && this.#stack.length === 0) this.#endLiteral();
    if (this.#state !== S_TOP) throw new JsonSyntaxError("unexpected end of the file inside a value", this.line);
  }

  #structural(ch: string, c: number): void {
    const state = this.#state;
    if (state === S_COLON) {
      if (ch !== ":") throw new JsonSyntaxError(`expected ':' after a key, got ${describe(ch)}`, this.line);
      this.#state = S_VALUE;
      this.#mayClose = false;
      return;
    }
    if (state === S_KEY) {
      if (ch === '"') return this.#startString(true);
      if (ch === "}" && this.#mayClose) return this.#close(ch);
      throw new JsonSyntaxError(`expected a key string, got ${describe(ch)}`, this.line);
    }
    if (state === S_AFTER) {
      const frame = this.#stack.at(-1)!;
      if (ch === ",") {
        this.#state = frame.array !== undefined ? S_VALUE : S_KEY;
        this.#mayClose = false;
        return;
      }
      if (ch === "]" || ch === "}") return this.#close(ch);
      throw new JsonSyntaxError(`expected ',' or a closing bracket, got ${describe(ch)}`, this.line);
    }
    // S_TOP or S_VALUE: a value starts here.
    if ((ch === "]" || ch === "}") && state === S_VALUE && this.#mayClose) return this.#close(ch);
    const depth = this.#stack.length;
    if (depth === 0 || (depth === 1 && this.#stack[0]!.streaming)) this.#valueLine = this.line;
    switch (ch) {
      case "{":
        this.#stack.push({ array: undefined, object: {}, key: "", streaming: false });
        this.#state = S_KEY;
        this.#mayClose = true;
        return;
      case "[": {
        const streaming = depth === 0 && this.unwrapArray;
        this.#stack.push({ array: streaming ? STREAMED : [], object: undefined, key: "", streaming });
        this.#state = S_VALUE;
        this.#mayClose = true;
        return;
      }
      case '"':
        return this.#startString(false);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.#token = ch;
          this.#state = S_NUMBER;
          return;
        }
        if (isLetter(c)) {
          this.#token = ch;
          this.#state = S_LITERAL;
          return;
        }
        throw new JsonSyntaxError(`unexpected ${describe(ch)}`, this.line);
    }
  }

  #startString(isKey: boolean): void {
    this.#state = S_STRING;
    this.#isKey = isKey;
    this.#parts = [];
    this.#escaped = false;
    this.#hasEscape = false;
  }

  #endString(): void {
    const raw = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join("");
    this.#parts = [];
    let value = raw;
    if (this.#hasEscape) {
      try {
        value = JSON.parse(`"${raw}"`) as string;
      } catch {
        throw new JsonSyntaxError("invalid escape in a string", this.line);
      }
    }
    if (this.#isKey) {
      this.#stack.at(-1)!.key = value;
      this.#state = S_COLON;
      return;
    }
    this.#complete(value);
  }

  #endNumber(): void {
    const token = this.#token;
    if (!NUMBER.test(token)) throw new JsonSyntaxError(`invalid number ${describe(token)}`, this.line);
    this.#complete(Number(token));
  }

  #endLiteral(): void {
    const token = this.#token;
    if (!Object.hasOwn(LITERALS, token)) throw new JsonSyntaxError(`unexpected ${describe(token)}`, this.line);
    this.#complete(LITERALS[token]);
  }

  #close(ch: string): void {
    const frame = this.#stack.pop()!;
    const isArray = frame.array !== undefined;
    if ((ch === "]") !== isArray) throw new JsonSyntaxError(`unexpected ${describe(ch)}`, this.line);
    if (frame.streaming) {
      this.#state = S_TOP;
      return;
    }
    this.#complete(isArray ? frame.array : frame.object);
  }

  #complete(value: unknown): void {
    const out = this.#out;
    const frame = this.#stack.at(-1);
    if (frame === undefined) {
      out.push({ value, line: this.#valueLine });
      this.#state = S_TOP;
      return;
    }
    this.#state = S_AFTER;
    if (frame.streaming) out.push({ value, line: this.#valueLine });
    else if (frame.array !== undefined) frame.array.push(value);
    else if (frame.key === "__proto__") Object.defineProperty(frame.object, "__proto__", { value, enumerable: true, writable: true, configurable: true });
    else frame.object![frame.key] = value;
  }
}

/** Marks a streamed top-level array (its elements are emitted, never stored). */
const STREAMED: unknown[] = Object.freeze([]) as unknown as unknown[];

/**
 * JSON text as the JSON dumpers write it. By default as Python's `json.dumps(event)` does, so
 * output stays byte-for-byte BSPump's: `", "` and `": "` between items and keys (`compact` off), and
 * every character outside printable ASCII escaped as `\uXXXX` (`ensure_ascii` on). With `compact`
 * and without `ensure_ascii` it is plain `JSON.stringify`.
 *
 * The values are JSON.stringify's, not Python's: `toJSON()` is honoured, `undefined` and functions
 * are left out of objects, NaN and Infinity become null (Python writes `NaN`, which is not JSON).
 */
export interface JsonDumpsOptions {
  compact: boolean;
  ensureAscii: boolean;
}

/** A string literal, or a separator outside one: JSON.stringify's output has no other whitespace to care about. */
const SEPARATORS = /"(?:[^"\\]|\\.)*"|[,:]/g;
// Python's ensure_ascii escapes everything outside ' '..'~' (JSON.stringify already escapes below ' ').
const NON_ASCII = /[\u007f-\uffff]/g;

const spaced = (match: string): string => (match.length === 1 ? `${match} ` : match);
const escaped = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Throws a TypeError for what JSON cannot hold: a bigint, a cycle, or a top-level value with no JSON form (undefined, a function). */
export function jsonDumps(value: unknown, options: JsonDumpsOptions): string {
  let text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`);
  if (!options.compact) text = text.replace(SEPARATORS, spaced);
  if (options.ensureAscii) text = text.replace(NON_ASCII, escaped);
  return text;
}

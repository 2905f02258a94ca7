/**
 * Events and contexts as text for the page: JSON-like, bounded in size and depth, never throwing
 * (cycles, BigInts, Buffers, Errors, Maps, class instances). The text is data: the page shows it
 * with `textContent`, never as HTML.
 */

export interface PreviewOptions {
  /** At most this many characters; longer text ends in "… (N more characters)". */
  maxChars?: number | undefined;
  /** Nested objects deeper than this are shown as `[Object]` / `[Array(n)]`. */
  maxDepth?: number | undefined;
  /** At most this many entries of an array, object or map. */
  maxEntries?: number | undefined;
}

const DEFAULTS = { maxChars: 4000, maxDepth: 6, maxEntries: 100 };

function errorView(error: Error): Record<string, unknown> {
  const view: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) view.code = code;
  return view;
}

/** A JSON-safe copy: what JSON.stringify can write, with markers for what it could not. */
function plain(value: unknown, depth: number, seen: Set<object>, options: typeof DEFAULTS): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "[undefined]";
    case "symbol":
      return value.toString();
    case "function":
      return `[Function ${value.name || "anonymous"}]`;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return "[Circular]";
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? "[Invalid Date]" : object.toISOString();
  if (object instanceof Error) return plain(errorView(object), depth, seen, options);
  if (Buffer.isBuffer(object) || object instanceof Uint8Array) {
    const bytes = object as Uint8Array;
    const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 64));
    return `[${bytes.byteLength} bytes: ${shown.toString("hex")}${bytes.byteLength > 64 ? "…" : ""}]`;
  }
  if (depth >= options.maxDepth) return Array.isArray(object) ? `[Array(${object.length})]` : `[${object.constructor?.name ?? "Object"}]`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.slice(0, options.maxEntries).map((item: unknown) => plain(item, depth + 1, seen, options));
      if (object.length > options.maxEntries) items.push(`[… ${object.length - options.maxEntries} more]`);
      return items;
    }
    const entries: [string, unknown][] = object instanceof Map ? [...object.entries()].map(([k, v]) => [String(k), v]) : object instanceof Set ? [...object].map((v, i) => [String(i), v]) : Object.entries(object);
    const out: Record<string, unknown> = {};
    let count = 0;
    for (const [key, item] of entries) {
      if (count === options.maxEntries) {
        out["…"] = `${entries.length - count} more`;
        break;
      }
      out[key] = plain(item, depth + 1, seen, options);
      count++;
    }
    return out;
  } finally {
    seen.delete(object);
  }
}

/**
 * `value` as indented JSON-like text of at most `maxChars` characters. Symbol keys (the delivery a
 * context carries) are left out, as JSON leaves them out.
 */
export function preview(value: unknown, options: PreviewOptions = {}): string {
  const settings = {
    maxChars: options.maxChars ?? DEFAULTS.maxChars,
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    maxEntries: options.maxEntries ?? DEFAULTS.maxEntries,
  };
  let text: string;
  try {
    text = JSON.stringify(plain(value, 0, new Set(), settings), null, 2) ?? "undefined";
  } catch (error) {
    text = `[cannot be shown: ${error instanceof Error ? error.message : String(error)}]`;
  }
  if (text.length <= settings.maxChars) return text;
  return `${text.slice(0, settings.maxChars)}… (${text.length - settings.maxChars} more characters)`;
}

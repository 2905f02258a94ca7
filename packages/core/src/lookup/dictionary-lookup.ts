import { isDeepStrictEqual } from "node:util";
import { ParseError } from "../errors.js";
import { MappingLookup } from "./mapping-lookup.js";

export type DictionaryInput<Value> = Readonly<Record<string, Value>> | ReadonlyMap<string, Value> | Iterable<readonly [string, Value]>;

function toMap<Value>(input: DictionaryInput<Value>): Map<string, Value> {
  if (input instanceof Map) return new Map(input);
  if (Symbol.iterator in input) return new Map(input as Iterable<readonly [string, Value]>);
  return new Map(Object.entries(input as Readonly<Record<string, Value>>));
}

function sameEntries<Value>(a: ReadonlyMap<string, Value>, b: ReadonlyMap<string, Value>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (!b.has(key) || !isDeepStrictEqual(value, b.get(key))) return false;
  return true;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * A lookup over a string-keyed dictionary (BSPump's DictionaryLookup), serialized as a JSON object
 * (UTF-8), so a master can serve it and a slave load it.
 *
 * Unlike BSPump, `deserialize()` *replaces* the dictionary: BSPump merges the loaded object into the
 * old one, so a key removed from the source stays in every slave until it restarts. It publishes
 * "bspump.Lookup.changed!" (through `update()`) only when the content differs — a file rewritten with
 * the same entries in another order is no change. Data that is not a JSON object is a ParseError and
 * the old dictionary stays. `set()` replaces the dictionary from code and also publishes the change.
 */
export class DictionaryLookup<Value = unknown> extends MappingLookup<string, Value> {
  #dictionary = new Map<string, Value>();

  /** The dictionary itself (read-only; replaced as a whole on each change, so an iteration is never disturbed). */
  get dictionary(): ReadonlyMap<string, Value> {
    this.touch();
    return this.#dictionary;
  }

  get(key: string): Value | undefined {
    this.touch();
    return this.#dictionary.get(key);
  }

  has(key: string): boolean {
    this.touch();
    return this.#dictionary.has(key);
  }

  get size(): number {
    this.touch();
    return this.#dictionary.size;
  }

  keys(): IterableIterator<string> {
    this.touch();
    return this.#dictionary.keys();
  }

  override values(): IterableIterator<Value> {
    this.touch();
    return this.#dictionary.values();
  }

  override entries(): IterableIterator<[string, Value]> {
    this.touch();
    return this.#dictionary.entries();
  }

  /** The dictionary as a JSON object, UTF-8. */
  override serialize(): Uint8Array {
    return encoder.encode(JSON.stringify(Object.fromEntries(this.#dictionary)));
  }

  /** Replaces the dictionary with the JSON object in `data`; returns whether the content changed. */
  override deserialize(data: Uint8Array): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(data));
    } catch (error) {
      throw new ParseError(`lookup:${this.id}`, `cannot deserialize the loaded data: ${(error as Error).message}`, { cause: error });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ParseError(`lookup:${this.id}`, `cannot deserialize the loaded data: expected a JSON object, got ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}`);
    }
    return this.#replace(new Map(Object.entries(parsed)) as Map<string, Value>);
  }

  /**
   * Replaces the whole dictionary (BSPump's `set()`); publishes "bspump.Lookup.changed!" when the
   * content differs and returns whether it did. On a slave it warns: the next load replaces it again.
   */
  set(dictionary: DictionaryInput<Value>): boolean {
    if (!this.isMaster()) this.log.warn("set() on a lookup that copies a master: its next load will replace the data", { masterUrl: this.masterUrl });
    this.forgetLoadedVersion();
    const changed = this.#replace(toMap(dictionary));
    if (changed) this.notifyChanged();
    return changed;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Size: this.#dictionary.size };
  }

  #replace(next: Map<string, Value>): boolean {
    const changed = !sameEntries(this.#dictionary, next);
    this.#dictionary = next;
    return changed;
  }
}

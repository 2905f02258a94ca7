import { Lookup } from "./lookup.js";

/**
 * A synchronous, read-only, Map-like lookup (BSPump's MappingLookup): `get`, `has`, `size`, `keys()`,
 * `values()`, `entries()`, and iteration over `[key, value]` entries, as a JS Map iterates (a Python
 * Mapping iterates its keys: use `keys()` for that). Subclasses implement `get`, `has`, `size` and
 * `keys`; they call `this.touch()` on each use so a lazy lookup loads on first use.
 */
export abstract class MappingLookup<Key = string, Value = unknown> extends Lookup<Key, Value> implements Iterable<[Key, Value]> {
  abstract override get(key: Key): Value | undefined;

  /** From the provider of `source_url` into `deserialize()`; override to load another way. */
  load(): Promise<boolean> {
    return this.loadFromProvider();
  }

  abstract has(key: Key): boolean;

  abstract get size(): number;

  abstract keys(): IterableIterator<Key>;

  *values(): IterableIterator<Value> {
    for (const [, value] of this.entries()) yield value;
  }

  *entries(): IterableIterator<[Key, Value]> {
    for (const key of this.keys()) {
      const value = this.get(key);
      if (value !== undefined || this.has(key)) yield [key, value as Value];
    }
  }

  [Symbol.iterator](): IterableIterator<[Key, Value]> {
    return this.entries();
  }

  override restGet(): Record<string, unknown> {
    // A lazy lookup that was never used is not loaded just to be shown.
    return this.lazy && !this.loaded ? super.restGet() : { ...super.restGet(), Size: this.size };
  }
}

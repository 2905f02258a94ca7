import { Generator } from "../component/generator.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { asMapping } from "./mapping-processor.js";

/** A mapping (a plain object or a Map) in, one event per key out, each with a copy of the context. */
export class MappingKeysGenerator<K = string> extends Generator<object, K> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  generate(context: Context, event: object, depth: number): void {
    const mapping = asMapping(this, event);
    const keys = mapping instanceof Map ? mapping.keys() : Object.keys(mapping);
    for (const key of keys) this.pipeline.inject(context, key, depth);
  }
}

/** A mapping in, one event per value out. */
export class MappingValuesGenerator<V = unknown> extends Generator<object, V> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  generate(context: Context, event: object, depth: number): void {
    const mapping = asMapping(this, event);
    const values = mapping instanceof Map ? mapping.values() : Object.values(mapping);
    for (const value of values) this.pipeline.inject(context, value, depth);
  }
}

/** A mapping in, one `[key, value]` event per item out. */
export class MappingItemsGenerator<K = string, V = unknown> extends Generator<object, [K, V]> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  generate(context: Context, event: object, depth: number): void {
    const mapping = asMapping(this, event);
    const items = mapping instanceof Map ? mapping.entries() : Object.entries(mapping);
    for (const item of items) this.pipeline.inject(context, item, depth);
  }
}

import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { assignKey } from "./input.js";
import { asMapping } from "./mapping-processor.js";

/** Turns one item of a mapping into the item of the output: `[newKey, newValue]`. */
export type ItemTransform = (key: string, value: unknown) => readonly [string, unknown];

/**
 * Rewrites each item of a mapping (a plain object or a Map) by its key: `build(app)` returns
 * `{ key: (key, value) => [newKey, newValue] }`, called once at construction. Keys it does not
 * name go through `default(key, value)` when the subclass defines one, else unchanged. The output
 * is a new plain object (the event is not modified); when two items end up under one key, the
 * later wins (Python's `dict()`).
 *
 * Difference from BSPump: the default function is the optional method `default`, which a subclass
 * simply defines; BSPump's `self.Default` is reset to None after `build()`, so it could only be set
 * after the constructor.
 */
export abstract class MappingTransformator<Out extends Record<string, unknown> = Record<string, unknown>> extends Processor<object, Out> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  /** Built by `build(app)`. */
  readonly mapping: ReadonlyMap<string, ItemTransform>;

  /** Items whose key `build()` does not name; without it they pass unchanged. */
  default?(key: string, value: unknown): readonly [string, unknown];

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    const built = this.build(app);
    this.mapping = built instanceof Map ? new Map(built) : new Map(Object.entries(built));
  }

  /** The transform for each key. */
  abstract build(app: PumpApplication): Readonly<Record<string, ItemTransform>> | ReadonlyMap<string, ItemTransform>;

  process(_context: Context, event: object): Out {
    const source = asMapping(this, event);
    const out: Record<string, unknown> = {};
    const entries: Iterable<readonly [unknown, unknown]> = source instanceof Map ? source.entries() : Object.entries(source);
    for (const [rawKey, value] of entries) {
      const key = typeof rawKey === "string" ? rawKey : String(rawKey);
      const transform = this.mapping.get(key);
      const [newKey, newValue] = transform !== undefined ? transform(key, value) : this.default !== undefined ? this.default(key, value) : [key, value];
      assignKey(out, newKey, newValue);
    }
    return out as Out;
  }
}

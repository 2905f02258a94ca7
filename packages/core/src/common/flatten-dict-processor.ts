import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { assignKey, describeValue, isMapping, isPlainObject } from "./input.js";

/**
 * Nested objects in, one flat object out, keys joined by `separator`:
 * `{person: {details: {first_name: "John"}}}` → `{"person.details.first_name": "John"}`.
 * Objects are plain objects and Maps (a Map's keys are turned into strings); anything else is a
 * value and kept as it is: arrays are not flattened, and an empty nested object stays under its
 * key (`{a: {}}` → `{a: {}}`), as BSPump keeps empty values.
 *
 * Differences from BSPump: an empty event gives an empty object (BSPump gives `{None: {}}`), an
 * event that is not an object is a ParseError (BSPump gives `{None: event}`), and a key that is an
 * empty string still gets its separator (`{"": {a: 1}}` → `{".a": 1}`; BSPump drops falsy
 * prefixes, which can make two keys one).
 */
export class FlattenDictProcessor<In extends object = Record<string, unknown>> extends Processor<In, Record<string, unknown>> {
  static override ConfigDefaults: ConfigValues = { separator: "." };

  readonly separator: string;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.separator = this.config.get("separator");
  }

  process(_context: Context, event: In): Record<string, unknown> {
    if (!isMapping(event)) throw new ParseError(this.locateAddress(), `expected an object to flatten, got ${describeValue(event)}`);
    return this.flatten(event);
  }

  /** The flat form of `nested` (a plain object or a Map). */
  flatten(nested: Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>): Record<string, unknown> {
    const flat: Record<string, unknown> = {};
    const separator = this.separator;
    const walk = (object: Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>, prefix: string | undefined): void => {
      const entries: Iterable<readonly [unknown, unknown]> = object instanceof Map ? object.entries() : Object.entries(object);
      for (const [rawKey, value] of entries) {
        const key = prefix === undefined ? String(rawKey) : `${prefix}${separator}${String(rawKey)}`;
        if (isPlainObject(value) ? hasKeys(value) : value instanceof Map && value.size > 0) walk(value as Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>, key);
        else assignKey(flat, key, value);
      }
    };
    walk(nested, undefined);
    return flat;
  }
}

function hasKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

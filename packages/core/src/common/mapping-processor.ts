import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { ProcessorBase } from "../component/processor-base.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import { describeValue, isMapping } from "./input.js";

/** Python's Mapping, as the mapping processors take it: a plain object or a Map. */
export type Mapping = Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown>;

/** The event as a Mapping, or a ParseError naming `component`: arrays and other objects are not mappings. */
export function asMapping(component: Pick<ProcessorBase, "locateAddress">, event: unknown): Mapping {
  if (!isMapping(event)) throw new ParseError(component.locateAddress(), `expected a mapping (an object or a Map), got ${describeValue(event)}`);
  return event;
}

/**
 * A mapping in, the list of its keys out (BSPump's `[*event.keys()]`). A plain object's keys are
 * strings; a Map's are what they are (say which with `K`).
 */
export class MappingKeysProcessor<K = string> extends Processor<object, K[]> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, event: object): K[] {
    const mapping = asMapping(this, event);
    return (mapping instanceof Map ? [...mapping.keys()] : Object.keys(mapping)) as K[];
  }
}

/** A mapping in, the list of its values out (BSPump's `[*event.values()]`). */
export class MappingValuesProcessor<V = unknown> extends Processor<object, V[]> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, event: object): V[] {
    const mapping = asMapping(this, event);
    return (mapping instanceof Map ? [...mapping.values()] : Object.values(mapping)) as V[];
  }
}

/** A mapping in, the list of its `[key, value]` pairs out (BSPump's `[*event.items()]`; tuples become two-element arrays). */
export class MappingItemsProcessor<K = string, V = unknown> extends Processor<object, [K, V][]> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, event: object): [K, V][] {
    const mapping = asMapping(this, event);
    return (mapping instanceof Map ? [...mapping.entries()] : Object.entries(mapping)) as [K, V][];
  }
}

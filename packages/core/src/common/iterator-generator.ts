import { Generator } from "../component/generator.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import { describeValue, isPlainObject } from "./input.js";

/** What IteratorGenerator takes: anything JavaScript can iterate, synchronously or not. */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;

/**
 * An iterable event in, one event per element out, each with a copy of the context: an array's
 * items, a Set's values, a Map's `[key, value]` entries, a string's characters (code points, as
 * Python iterates a str). An async iterable is drained asynchronously (the pipeline tracks it as a
 * future). Anything else is a ParseError; so is a plain object — JavaScript does not iterate one
 * (Python would give a dict's keys: use MappingKeysGenerator for that).
 */
export class IteratorGenerator<T = unknown> extends Generator<AnyIterable<T>, T> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  generate(context: Context, event: AnyIterable<T>, depth: number): void | Promise<void> {
    if (event !== null && event !== undefined) {
      if (typeof (event as Iterable<T>)[Symbol.iterator] === "function") {
        for (const item of event as Iterable<T>) this.pipeline.inject(context, item, depth);
        return;
      }
      if (typeof (event as AsyncIterable<T>)[Symbol.asyncIterator] === "function") return this.#drain(context, event as AsyncIterable<T>, depth);
    }
    const hint = isPlainObject(event) ? " (a plain object is not iterable: MappingKeysGenerator gives its keys)" : "";
    throw new ParseError(this.locateAddress(), `expected an iterable, got ${describeValue(event)}${hint}`);
  }

  async #drain(context: Context, iterable: AsyncIterable<T>, depth: number): Promise<void> {
    for await (const item of iterable) this.pipeline.inject(context, item, depth);
  }
}

import { setImmediate as nextTurn } from "node:timers/promises";
import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { TriggerSource } from "../component/trigger-source.js";
import type { ConfigValues } from "../config/config.js";
import { StoppedError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { AnyIterable } from "./iterator-generator.js";

const NOT_YET: unique symbol = Symbol("not yet");

/**
 * A TriggerSource over an iterable or an async iterable (BSPump's IteratorSource): each cycle
 * iterates it from where it stands and hands its elements to the pipeline in batches of at most
 * `batch_size`, each with an empty context. An array starts over each cycle; an iterator or a
 * generator is drained by the first cycle and gives nothing after, as in BSPump.
 *
 * An async iterable's elements are batched as they come: a batch takes what is ready within one
 * turn of the event loop, so a slow producer's elements are not held back waiting for a full batch.
 * Stopping the source stops waiting for the next element and closes the iterator (`return()`).
 *
 * Beyond BSPump: async iterables, and `batch_size` (BSPump hands over one event at a time).
 */
export class IteratorSource<T = unknown> extends TriggerSource<T> {
  static override ConfigDefaults: ConfigValues = { batch_size: 1000 };

  readonly iterable: AnyIterable<T>;
  readonly batchSize: number;

  constructor(app: PumpApplication, pipeline: Pipeline, iterable: AnyIterable<T>, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.iterable = iterable;
    this.batchSize = Math.max(1, this.config.getInt("batch_size"));
  }

  async cycle(): Promise<void> {
    const iterable = this.iterable;
    if (typeof (iterable as Iterable<T>)[Symbol.iterator] === "function") await this.#drainSync(iterable as Iterable<T>);
    else await this.#drainAsync(iterable as AsyncIterable<T>);
  }

  async #drainSync(iterable: Iterable<T>): Promise<void> {
    const size = this.batchSize;
    let batch: T[] = [];
    for (const item of iterable) {
      batch.push(item);
      if (batch.length >= size) {
        await this.processBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.processBatch(batch);
  }

  async #drainAsync(iterable: AsyncIterable<T>): Promise<void> {
    const iterator = iterable[Symbol.asyncIterator]();
    const size = this.batchSize;
    const signal = this.signal;
    const { promise: stopped, reject } = Promise.withResolvers<never>();
    stopped.catch(() => {});
    const abort = (): void => reject(new StoppedError(`Source '${this.id}'`));
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
    let batch: T[] = [];
    let turn: Promise<typeof NOT_YET> | undefined;
    let finished = false;
    try {
      for (;;) {
        const next = iterator.next();
        let result: IteratorResult<T>;
        if (batch.length === 0) {
          result = await Promise.race([next, stopped]);
        } else {
          // A batch takes what arrives within this turn of the event loop; then it goes.
          turn ??= nextTurn(NOT_YET);
          const first = await Promise.race([next, turn, stopped]);
          if (first === NOT_YET) {
            turn = undefined;
            await this.processBatch(batch);
            batch = [];
            result = await Promise.race([next, stopped]);
          } else {
            result = first;
          }
        }
        if (result.done === true) {
          finished = true;
          break;
        }
        batch.push(result.value);
        if (batch.length >= size) {
          turn = undefined;
          await this.processBatch(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.processBatch(batch);
    } finally {
      signal.removeEventListener("abort", abort);
      // Leaving early (a stop, an error): close the iterator, without waiting for it.
      if (!finished) iterator.return?.()?.catch(() => {});
    }
  }
}

import { Sink } from "../component/sink.js";
import type { Context } from "../context.js";

/** The sink of a test pipeline: keeps what reached it, in the order it arrived. */
export class UnitTestSink<T = unknown> extends Sink<T> {
  /** `[context, event]` pairs. */
  readonly output: [Context, T][] = [];
  /** The events alone, and their contexts, index by index. */
  readonly events: T[] = [];
  readonly contexts: Context[] = [];

  process(context: Context, event: T): void {
    this.output.push([context, event]);
    this.events.push(event);
    this.contexts.push(context);
  }
}

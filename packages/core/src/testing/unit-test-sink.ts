import { Sink } from "../component/sink.js";
import type { Context } from "../context.js";

/** The sink of a test pipeline: keeps `[context, event]` pairs in `output`, in the order they arrived. */
export class UnitTestSink<T = unknown> extends Sink<T> {
  readonly output: [Context, T][] = [];

  process(context: Context, event: T): void {
    this.output.push([context, event]);
  }
}

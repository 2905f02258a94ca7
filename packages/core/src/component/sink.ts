import type { Context } from "../context.js";
import { KIND_SINK, ProcessorBase } from "./processor-base.js";

/**
 * The end of a chain: takes each event out of the pipeline. A sink that writes synchronously (or
 * returns a promise the pipeline awaits) is done with the event when `process` returns, and the
 * pipeline confirms the event's delivery then. A sink that buffers sets `confirmsDelivery` and
 * confirms each event itself (`deliveryOf(context)?.done()` / `.fail(error)`) once the server took it.
 */
export abstract class Sink<In = unknown> extends ProcessorBase<In, never> {
  readonly kind = KIND_SINK;

  /** True when the sink settles deliveries itself, after its buffer is flushed. */
  readonly confirmsDelivery: boolean = false;

  abstract process(context: Context, event: In): void | Promise<void>;
}

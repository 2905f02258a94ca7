import type { Context } from "../context.js";
import { KIND_PROCESSOR, ProcessorBase } from "./processor-base.js";

/** What `process` may give back: the next event, nothing to drop it, or a promise of either. */
export type ProcessResult<Out> = Out | null | undefined | Promise<Out | null | undefined>;

/**
 * Transforms, filters or enriches one event at a time. Return the next event, or null/undefined to
 * drop it (counted, and acknowledged if the source tracks delivery). Keep it synchronous when you
 * can: a returned Promise is awaited in order, which costs that pipeline a turn per event.
 */
export abstract class Processor<In = unknown, Out = unknown> extends ProcessorBase<In, Out> {
  readonly kind = KIND_PROCESSOR;

  abstract process(context: Context, event: In): ProcessResult<Out>;
}

import type { Context } from "../context.js";
import { KIND_GENERATOR, ProcessorBase } from "./processor-base.js";

/**
 * Turns one event into any number of events, asynchronously if it needs to: `generate` calls
 * `this.pipeline.inject(context, item, depth)` for each. The processors after a generator form the
 * next depth. The pipeline tracks each `generate` as a future under its concurrency limit, and the
 * source's delivery of the event settles only when every injected event settled and `generate` ended.
 */
export abstract class Generator<In = unknown, Out = unknown> extends ProcessorBase<In, Out> {
  readonly kind = KIND_GENERATOR;

  /** The depth this generator sits at; set by the pipeline. Its events are injected at depth + 1. */
  pipelineDepth = 0;

  abstract generate(context: Context, event: In, depth: number): void | Promise<void>;
}

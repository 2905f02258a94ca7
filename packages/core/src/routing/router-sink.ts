import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Sink } from "../component/sink.js";
import type { Context } from "../context.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { Router } from "./router.js";

/**
 * A sink that dispatches events to other pipelines: override `process()` and call
 * `this.route(context, event, "Pipeline.*InternalSource")` (as many times as needed: each is a copy).
 */
export abstract class RouterSink<In = unknown> extends Sink<In> {
  readonly router: Router;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.router = new Router(pipeline);
  }

  route(context: Context, event: unknown, address: string, copyEvent = true): void {
    this.router.route(context, event, address, copyEvent);
  }
}

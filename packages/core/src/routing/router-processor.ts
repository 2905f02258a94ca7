import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { Context } from "../context.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { Router } from "./router.js";

/**
 * A processor that dispatches events to other pipelines and may pass them on too: override
 * `process()`, call `this.route(context, event, "Pipeline.*InternalSource")`, return the event or null.
 */
export abstract class RouterProcessor<In = unknown, Out = In> extends Processor<In, Out> {
  readonly router: Router;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.router = new Router(pipeline);
  }

  route(context: Context, event: unknown, address: string, copyEvent = true): void {
    this.router.route(context, event, address, copyEvent);
  }
}

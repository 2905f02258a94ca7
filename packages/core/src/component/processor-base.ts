import { Config, type ConfigValues } from "../config/config.js";
import type { Logger } from "../logger.js";
import type { PumpApplication } from "../application/application.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { ComponentOptions } from "./options.js";

export const KIND_PROCESSOR = 0;
export const KIND_GENERATOR = 1;
export const KIND_SINK = 2;
export type ProcessorKind = typeof KIND_PROCESSOR | typeof KIND_GENERATOR | typeof KIND_SINK;

/** Time spent and calls made, as BSPump's profiler counts them per processor. */
export interface ProcessorProfile {
  /** Events handed to the processor. */
  runs: number;
  /** Seconds spent inside it. */
  duration: number;
}

/**
 * What Processor, Generator and Sink share: identity, config section
 * `[pipeline:<PipelineId>:<Id>]`, a logger that names the pipeline and the component, and
 * optional lifecycle hooks the pipeline calls on start and stop (a buffering sink flushes in `stop`).
 */
export abstract class ProcessorBase<In = unknown, Out = unknown> {
  static ConfigDefaults: ConfigValues = {};

  /** Type-level only: what the component takes and gives, so `build()` can check a chain. */
  declare readonly "~types"?: { in: (event: In) => void; out: () => Out };

  abstract readonly kind: ProcessorKind;
  readonly app: PumpApplication;
  readonly pipeline: Pipeline;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;
  readonly profile: ProcessorProfile = { runs: 0, duration: 0 };

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    this.app = app;
    this.pipeline = pipeline;
    this.id = options.id ?? new.target.name;
    this.config = Config.forClass(new.target, `pipeline:${pipeline.id}:${this.id}`, options.config, app.config);
    this.log = pipeline.log.child({ component: this.id });
  }

  /** Called when the pipeline starts, before its sources. */
  start(): void | Promise<void> {}

  /** Called when the pipeline stops, after its sources stopped and in-flight work drained. */
  stop(): void | Promise<void> {}

  /** The application's clock, in epoch seconds (BSPump's `time()`). */
  time(): number {
    return this.app.time();
  }

  locateAddress(): string {
    return `${this.pipeline.id}.${this.id}`;
  }

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name, PipelineId: this.pipeline.id };
  }
}

import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { TriggerSource } from "../component/trigger-source.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { matrixService, type NamedMatrix } from "./matrix.js";

/**
 * Emits what a matrix's `analyze()` makes, once per trigger fire (BSPump's AnalyzingSource): a
 * "complex event" — a summary, a list of alarms — built from the matrix an analyzer fills. Nothing
 * is emitted when `analyze()` gives undefined or null.
 *
 * ```ts
 * class Traffic extends TimeWindowMatrix { analyze() { return { hosts: this.size, late: this.counters.late }; } }
 * addMatrix(app, new Traffic(app, { id: "Traffic" }));
 * pipeline.build(new AnalyzingSource(app, pipeline, "Traffic").on(new PeriodicTrigger(app, 60)), ...);
 * ```
 */
export class AnalyzingSource<Out = unknown> extends TriggerSource<Out> {
  readonly matrix: NamedMatrix;

  constructor(app: PumpApplication, pipeline: Pipeline, matrixId: string | NamedMatrix, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.matrix = matrixService(app).locateMatrix(matrixId);
  }

  async cycle(): Promise<void> {
    const event = (await this.matrix.analyze()) as Out | null | undefined;
    if (event !== undefined && event !== null) await this.process(event);
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Matrix: this.matrix.id };
  }
}

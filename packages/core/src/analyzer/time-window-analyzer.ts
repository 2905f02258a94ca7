import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import { UsageError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { Analyzer, foldOptions, type AnalyzerOptions } from "./analyzer.js";
import type { NumericType } from "./dtype.js";
import { matrixService, type NamedMatrix } from "./matrix.js";
import { TimeWindowMatrix } from "./time-window-matrix.js";

export interface TimeWindowAnalyzerOptions<T extends NumericType = "f8"> extends AnalyzerOptions {
  /** Use this matrix (or the one of this id) instead of creating `<Id>Matrix`; its own settings then apply. */
  matrixId?: string | TimeWindowMatrix<T> | undefined;
  /** Cell type of a created matrix (default "f8"). */
  dtype?: T | undefined;
  /** Time slots (config `columns`, 15). */
  columns?: number | undefined;
  /** Seconds per slot (config `resolution`, 60). */
  resolution?: number | undefined;
  /** Epoch seconds the window starts from (default: the application clock now). */
  startTime?: number | undefined;
  /** Advance the window with the application clock while the pipeline runs (config `clock_driven`, false). */
  clockDriven?: boolean | undefined;
  /** What new cells hold (default 0). */
  fill?: number | undefined;
}

/**
 * An analyzer over a TimeWindowMatrix (BSPump's TimeWindowAnalyzer), `this.timeWindow`: rows per key,
 * columns per time slot. It creates the matrix `<Id>Matrix` (registered, so an AnalyzingSource or
 * another analyzer can locate it) unless given `matrixId`. A clock-driven matrix advances with the
 * application clock while a pipeline using it runs. Implement `predicate`, `evaluate` and `analyze`:
 *
 * ```ts
 * evaluate(context: Context, event: Hit) {
 *   const row = this.timeWindow.getRowIndex(event.host) ?? this.timeWindow.addRow(event.host);
 *   const column = this.timeWindow.getColumn(event.timestamp);
 *   if (column !== undefined) this.timeWindow.add(row, column, 1);
 * }
 * ```
 */
export class TimeWindowAnalyzer<Event = unknown, T extends NumericType = "f8"> extends Analyzer<Event> {
  static override ConfigDefaults: ConfigValues = {
    columns: 15,
    resolution: 60,
    clock_driven: false,
  };

  readonly timeWindow: TimeWindowMatrix<T>;

  constructor(app: PumpApplication, pipeline: Pipeline, options: TimeWindowAnalyzerOptions<T> = {}) {
    super(app, pipeline, foldOptions(options, { columns: options.columns, resolution: options.resolution, clock_driven: options.clockDriven }));
    const service = matrixService(app);
    if (options.matrixId !== undefined) {
      const matrix = service.locateMatrix<NamedMatrix>(options.matrixId);
      if (!(matrix instanceof TimeWindowMatrix)) throw new UsageError(`${this.locateAddress()}: matrix '${matrix.id}' is a ${matrix.constructor.name}, not a TimeWindowMatrix`);
      this.timeWindow = matrix as TimeWindowMatrix<T>;
      return;
    }
    this.timeWindow = service.addMatrix(
      new TimeWindowMatrix<T>(app, {
        id: `${this.id}Matrix`,
        dtype: options.dtype,
        columns: this.config.getInt("columns"),
        resolution: this.config.getSeconds("resolution"),
        clockDriven: this.config.getBool("clock_driven"),
        startTime: options.startTime,
        fill: options.fill,
      }),
    );
  }

  override start(): void | Promise<void> {
    this.timeWindow.attach();
    return super.start();
  }

  override stop(): void | Promise<void> {
    this.timeWindow.detach();
    return super.stop();
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Matrix: this.timeWindow.id };
  }
}

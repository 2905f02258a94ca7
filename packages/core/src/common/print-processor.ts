import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import { Processor } from "../component/processor.js";
import type { Context } from "../context.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { PrintOutput, formatLine, formatPretty, type PrintOptions } from "./print-output.js";

/**
 * Writes each event to `stream` (process.stdout by default), one line per event as PrintSink does,
 * and passes it on unchanged. A slow stream throttles the pipeline until it drains.
 */
export class PrintProcessor<T = unknown> extends Processor<T, T> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  readonly output: PrintOutput;

  constructor(app: PumpApplication, pipeline: Pipeline, options: PrintOptions = {}) {
    super(app, pipeline, options);
    this.output = new PrintOutput(this, options.stream);
  }

  /** The text written for an event, newline included. */
  format(_context: Context, event: T): string {
    return `${formatLine(event)}\n`;
  }

  process(context: Context, event: T): T {
    this.output.write(this.format(context, event));
    return event;
  }

  override start(): void {
    this.output.start();
  }

  override stop(): Promise<void> {
    return this.output.stop();
  }
}

/** PrintProcessor laid out for a person, as Python's `pprint` (see PPrintSink). */
export class PPrintProcessor<T = unknown> extends PrintProcessor<T> {
  override format(_context: Context, event: T): string {
    return `${formatPretty(event, this.output.colors)}\n`;
  }
}

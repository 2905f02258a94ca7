import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import { Sink } from "../component/sink.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { PrintOutput, formatLine, formatPretty, type PrintOptions } from "./print-output.js";

/**
 * Writes each event to `stream` (process.stdout by default), one line per event, as Python's
 * `print(event)` shows it (see `formatLine`). A slow stream throttles the pipeline until it drains
 * (see `PrintOutput`). An event's delivery is confirmed when the stream took its line, and `stop()`
 * waits for that, so nothing written is lost on the way out.
 */
export class PrintSink<In = unknown> extends Sink<In> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  override readonly confirmsDelivery: boolean = true;
  readonly output: PrintOutput;

  constructor(app: PumpApplication, pipeline: Pipeline, options: PrintOptions = {}) {
    super(app, pipeline, options);
    this.output = new PrintOutput(this, options.stream);
  }

  /** The text written for an event, newline included. */
  format(event: In): string {
    return `${formatLine(event)}\n`;
  }

  process(context: Context, event: In): void {
    const delivery = context[DELIVERY];
    this.output.write(this.format(event), delivery === undefined ? undefined : (error) => (error ? delivery.fail(error) : delivery.done()));
  }

  override start(): void {
    this.output.start();
  }

  override stop(): Promise<void> {
    return this.output.stop();
  }
}

/**
 * PrintSink laid out for a person, as Python's `pprint.pprint(event)`: `util.inspect` over lines of
 * at most 80 characters, nesting indented, nothing cut off, colours only on a terminal (see `formatPretty`).
 */
export class PPrintSink<In = unknown> extends PrintSink<In> {
  override format(event: In): string {
    return `${formatPretty(event, this.output.colors)}\n`;
  }
}

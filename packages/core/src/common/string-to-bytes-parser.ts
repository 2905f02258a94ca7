import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { describeValue } from "./input.js";
import { textCodec, type TextCodec } from "./text-codec.js";

/**
 * A string in, its bytes (a Buffer) out, in the configured `encoding` (BSPump's
 * `event.encode(encoding)`). Anything but a string, or text the encoding cannot express (with
 * `errors=strict`), is a ParseError. Beyond BSPump: the `errors` key (`strict`, the default, or
 * `replace`), and Node's encodings besides Python's names for them (see `textCodec`).
 */
export class StringToBytesParser extends Processor<string, Buffer> {
  static override ConfigDefaults: ConfigValues = { encoding: "utf-8", errors: "strict" };

  readonly codec: TextCodec;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.codec = textCodec(this.config, "encode");
  }

  process(_context: Context, event: string): Buffer {
    if (typeof event !== "string") throw new ParseError(this.locateAddress(), `expected a string, got ${describeValue(event)}`);
    try {
      return this.codec.encode(event);
    } catch (error) {
      throw new ParseError(this.locateAddress(), `cannot encode the string: ${(error as Error).message}`, { cause: error });
    }
  }
}

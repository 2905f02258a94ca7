import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { describeValue, isBytes } from "./input.js";
import { textCodec, type TextCodec } from "./text-codec.js";

/**
 * Bytes (a Uint8Array or Buffer) in, the string they encode out, by the configured `encoding`
 * (BSPump's `event.decode(encoding)`). Anything but bytes, or bytes that do not decode (with
 * `errors=strict`: invalid UTF-8 is refused, as Python does, rather than replaced as Node's Buffer
 * would), is a ParseError. Beyond BSPump: the `errors` key, Node's encodings and WHATWG labels.
 */
export class BytesToStringParser extends Processor<Uint8Array, string> {
  static override ConfigDefaults: ConfigValues = { encoding: "utf-8", errors: "strict" };

  readonly codec: TextCodec;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.codec = textCodec(this.config, "decode");
  }

  process(_context: Context, event: Uint8Array): string {
    if (!isBytes(event)) throw new ParseError(this.locateAddress(), `expected bytes (a Uint8Array or Buffer), got ${describeValue(event)}`);
    try {
      return this.codec.decode(event);
    } catch (error) {
      throw new ParseError(this.locateAddress(), `cannot decode the bytes as ${this.codec.encoding}: ${(error as Error).message}`, { cause: error });
    }
  }
}

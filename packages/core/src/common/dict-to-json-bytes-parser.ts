import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { describeValue, isPlainObject } from "./input.js";
import { jsonDumps, type JsonDumpsOptions } from "./json-dumps.js";
import { textCodec, type TextCodec } from "./text-codec.js";

/**
 * An object (Python's dict: a plain object) in, its JSON text encoded as bytes (a Buffer) out, in
 * the configured `encoding` (BSPump's `json.dumps(event).encode(encoding)`). JSON is written as
 * StdDictToJsonParser writes it (Python's form by default; `compact`, `ensure_ascii` as there).
 * Anything but a plain object (an array, a Map, a string...) is a ParseError, as BSPump asserts a dict.
 */
export class DictToJsonBytesParser<In extends object = Record<string, unknown>> extends Processor<In, Buffer> {
  static override ConfigDefaults: ConfigValues = { encoding: "utf-8", errors: "strict", compact: false, ensure_ascii: true };

  readonly codec: TextCodec;
  readonly jsonOptions: JsonDumpsOptions;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.codec = textCodec(this.config, "encode");
    this.jsonOptions = { compact: this.config.getBool("compact"), ensureAscii: this.config.getBool("ensure_ascii") };
  }

  process(_context: Context, event: In): Buffer {
    if (!isPlainObject(event)) throw new ParseError(this.locateAddress(), `expected an object, got ${describeValue(event)}`);
    let text: string;
    try {
      text = jsonDumps(event, this.jsonOptions);
    } catch (error) {
      throw new ParseError(this.locateAddress(), `cannot write the object as JSON: ${(error as Error).message}`, { cause: error });
    }
    try {
      return this.codec.encode(text);
    } catch (error) {
      throw new ParseError(this.locateAddress(), `cannot encode the JSON: ${(error as Error).message}`, { cause: error });
    }
  }
}

import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { describeValue } from "./input.js";
import { jsonDumps, type JsonDumpsOptions } from "./json-dumps.js";

/**
 * A value in, its JSON text out (BSPump's `json.dumps(event)`), by default exactly as Python writes
 * it: `{"a": 1, "b": "\u00e9"}` (see `jsonDumps`). Beyond BSPump: `compact=true` drops the spaces,
 * `ensure_ascii=false` keeps non-ASCII characters as they are; both give plain JSON.stringify.
 * A value JSON cannot hold (a bigint, a cycle, undefined) is a ParseError.
 */
export class StdDictToJsonParser<In = unknown> extends Processor<In, string> {
  static override ConfigDefaults: ConfigValues = { compact: false, ensure_ascii: true };

  readonly jsonOptions: JsonDumpsOptions;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.jsonOptions = { compact: this.config.getBool("compact"), ensureAscii: this.config.getBool("ensure_ascii") };
  }

  process(_context: Context, event: In): string {
    try {
      return jsonDumps(event, this.jsonOptions);
    } catch (error) {
      throw new ParseError(this.locateAddress(), `cannot write ${describeValue(event)} as JSON: ${(error as Error).message}`, { cause: error });
    }
  }
}

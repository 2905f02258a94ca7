import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import { describeValue, isBytes } from "./input.js";
import { describePosition, jsonErrorPosition } from "./json-error-position.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON text in, the value it holds out (BSPump's `json.loads(event)`): a string, or bytes (a
 * Uint8Array or Buffer) decoded as UTF-8 (a BOM is skipped; Python also detects UTF-16/32).
 * Invalid JSON, bytes that are not UTF-8 and anything but a string or bytes are a ParseError that
 * names the position where the text went wrong. JSON `null` gives no event, as BSPump's None: it is
 * dropped. `T` is what the JSON is expected to hold; it is not checked.
 */
export class StdJsonToDictParser<T = unknown> extends Processor<string | Uint8Array, T> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, event: string | Uint8Array): T {
    let text: string;
    if (typeof event === "string") text = event;
    else if (isBytes(event)) {
      try {
        text = UTF8.decode(event);
      } catch (error) {
        throw new ParseError(this.locateAddress(), "invalid JSON: the bytes are not UTF-8", { cause: error });
      }
    } else {
      throw new ParseError(this.locateAddress(), `expected JSON text (a string or bytes), got ${describeValue(event)}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      const position = jsonErrorPosition(text);
      const where = position < 0 ? "" : ` at ${describePosition(text, position)}`;
      const reason = (error as Error).message.replace(/ in JSON at position \d+.*$/su, "");
      throw new ParseError(this.locateAddress(), `invalid JSON${where}: ${reason}`, { cause: error, position: position < 0 ? undefined : position });
    }
  }
}

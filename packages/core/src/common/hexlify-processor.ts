import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { ParseError } from "../errors.js";
import { asBuffer, describeValue, isBytes } from "./input.js";

/**
 * Bytes in, their lowercase hex digits out — as bytes (a Buffer of ASCII digits), like BSPump's
 * `binascii.hexlify(event)`: `<12 34 56 78>` → `Buffer.from("12345678")`. Bytes rather than a
 * string so that chains ported from BSPump (hexlify, then a bytes sink or BytesToStringParser)
 * keep working; `.toString()` or a BytesToStringParser after it gives the string. Anything but
 * bytes is a ParseError (Python raises TypeError).
 */
export class HexlifyProcessor extends Processor<Uint8Array, Buffer> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, event: Uint8Array): Buffer {
    if (!isBytes(event)) throw new ParseError(this.locateAddress(), `expected bytes (a Uint8Array or Buffer) to hexlify, got ${describeValue(event)}`);
    return Buffer.from(asBuffer(event).toString("hex"), "latin1");
  }
}

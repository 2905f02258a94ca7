import type { Context } from "../context.js";
import { PrintProcessor } from "./print-processor.js";
import { formatLine, formatPretty, printableContext } from "./print-output.js";

/**
 * Writes each event's context (not the event) to `stream`, one line per event, and passes the event
 * on. The delivery tracking the pipeline keeps in the context is left out of what is printed.
 */
export class PrintContextProcessor<T = unknown> extends PrintProcessor<T> {
  override format(context: Context, _event: T): string {
    return `${formatLine(printableContext(context))}\n`;
  }
}

/** PrintContextProcessor laid out for a person, as Python's `pprint(context)`. */
export class PPrintContextProcessor<T = unknown> extends PrintProcessor<T> {
  override format(context: Context, _event: T): string {
    return `${formatPretty(printableContext(context), this.output.colors)}\n`;
  }
}

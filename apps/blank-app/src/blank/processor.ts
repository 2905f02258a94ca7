import { Processor, type Context } from "@pump/core";

/** Makes a Shakespearean question of each line: "be" becomes "To be, or not to be?". */
export class ShakespeareanEnricher extends Processor<string | Buffer, string> {
  process(_context: Context, event: string | Buffer): string {
    const word = (typeof event === "string" ? event : event.toString("utf8")).replaceAll("\r", "").replaceAll("\n", "");
    return `To ${word}, or not to ${word}?`;
  }
}

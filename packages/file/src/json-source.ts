import type { ConfigValues } from "@pump/core";
import { FileEncodingError, FileFormatError } from "./errors.js";
import { FileABCSource, type FileInput } from "./file-source.js";
import { JsonStreamParser, JsonSyntaxError, type ParsedValue } from "./json-parser.js";
import { countNewlineBytes } from "./text.js";

/**
 * Parses JSON files into events (BSPump's FileJSONSource: one event per file), streamed: the text is
 * parsed chunk by chunk as it is read, so a large document never blocks the event loop and its text is
 * never held whole. Several top-level values in one file (NDJSON, concatenated JSON) are one event
 * each; with `unwrap_array`, each element of a top-level array is an event and the array is never
 * built, so a file larger than memory streams through. Invalid JSON or bytes that do not decode are
 * reported with file and line through the pipeline's error handling; the events before it stand and
 * the file is renamed `-failed`. Context: `{ filename, line }` (where the value starts).
 */
export class FileJSONSource extends FileABCSource<unknown> {
  static override ConfigDefaults: ConfigValues = { mode: "r", unwrap_array: false };

  protected async read(file: FileInput): Promise<void> {
    const parser = new JsonStreamParser({ unwrapArray: this.config.getBool("unwrap_array") });
    const decoder = new TextDecoder(this.decoder.encoding, { fatal: true, ignoreBOM: true });
    const found: ParsedValue[] = [];
    const fail = async (error: FileFormatError | FileEncodingError, raw: unknown): Promise<void> => {
      await this.#emit(file, found);
      this.malformed(file, error, raw);
      file.failure = error;
    };
    for await (const chunk of file.chunks()) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        return fail(new FileEncodingError(file.filename, this.#badLine(chunk, parser.line), this.decoder.encoding), chunk);
      }
      try {
        parser.write(text, found);
      } catch (error) {
        if (!(error instanceof JsonSyntaxError)) throw error;
        return fail(new FileFormatError(file.filename, error.line, error.message, { cause: error }), undefined);
      }
      await this.#emit(file, found);
    }
    try {
      parser.write(decoder.decode(), found);
      parser.end(found);
    } catch (error) {
      if (error instanceof JsonSyntaxError) return fail(new FileFormatError(file.filename, error.line, error.message, { cause: error }), undefined);
      return fail(new FileEncodingError(file.filename, parser.line, this.decoder.encoding), undefined);
    }
    await this.#emit(file, found);
  }

  async #emit(file: FileInput, found: ParsedValue[]): Promise<void> {
    if (found.length === 0) return;
    const values = found.map((p) => p.value);
    const lines = found.map((p) => p.line);
    found.length = 0;
    await this.emit(file, values, lines);
  }

  /** The line of the first piece of `chunk` (split at "\n") that does not decode on its own. */
  #badLine(chunk: Buffer, firstLine: number): number {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.decoder.decode(chunk.subarray(start, end)) === undefined) return firstLine + countNewlineBytes(chunk, 0, start);
      if (nl < 0) return firstLine;
      start = nl + 1;
    }
  }
}

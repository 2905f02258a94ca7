import type { ConfigValues } from "@pump/core";
import { FileEncodingError } from "./errors.js";
import { FileABCSource, type FileInput } from "./file-source.js";
import { countNewlineBytes } from "./text.js";

/**
 * The content of each file as one event (BSPump's FileBlockSource): a `Buffer`, or a string with
 * `mode = r`. With `block_size` > 0 the file is cut into blocks of that many bytes instead, each an
 * event (so a file larger than memory streams through; in text mode a character is never split).
 * Context: `{ filename }`.
 */
export class FileBlockSource extends FileABCSource<Buffer | string> {
  static override ConfigDefaults: ConfigValues = { block_size: 0 };

  protected async read(file: FileInput): Promise<void> {
    const blockSize = this.config.getInt("block_size");
    const decoder = this.text ? new TextDecoder(this.decoder.encoding, { fatal: true, ignoreBOM: true }) : undefined;
    let lines = 1;
    const decode = (bytes: Buffer, last: boolean): string | undefined => {
      try {
        return decoder!.decode(bytes, { stream: !last });
      } catch {
        this.malformed(file, new FileEncodingError(file.filename, lines, this.decoder.encoding), bytes);
        file.failure ??= new FileEncodingError(file.filename, lines, this.decoder.encoding);
        return undefined;
      }
    };
    if (blockSize > 0) {
      for await (const chunk of file.chunks(blockSize)) {
        if (decoder === undefined) {
          await this.emit(file, [chunk]);
          continue;
        }
        const text = decode(chunk, false);
        if (text === undefined) return;
        lines += countNewlineBytes(chunk);
        if (text !== "") await this.emit(file, [text]);
      }
      if (decoder !== undefined) {
        const rest = decode(Buffer.alloc(0), true);
        if (rest !== undefined && rest !== "") await this.emit(file, [rest]);
      }
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of file.chunks()) chunks.push(chunk);
    const content = Buffer.concat(chunks);
    if (decoder === undefined) return this.emit(file, [content]);
    const text = decode(content, true);
    if (text !== undefined) await this.emit(file, [text]);
  }
}

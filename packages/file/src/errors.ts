/**
 * Every error @pump/file raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type FileErrorCode = "PUMP_FILE_FORMAT" | "PUMP_FILE_ENCODING" | "PUMP_FILE_RECORD_TOO_LARGE" | "PUMP_FILE_READ" | "PUMP_FILE_WRITE";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * file codes are passed through a cast; `code` still reads as one of `FileErrorCode`.)
 */
export class FileError extends PumpError {
  constructor(code: FileErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get fileCode(): FileErrorCode {
    return this.code as unknown as FileErrorCode;
  }
}

/** A problem at a place in a file: the message starts with `file:line`. */
export abstract class FileRecordError extends FileError {
  /** The file's original path (not its `-locked` name). */
  readonly filename: string;
  /** 1-based line where the bad record starts, when known. */
  readonly line: number | undefined;

  constructor(code: FileErrorCode, filename: string, line: number | undefined, problem: string, options?: ErrorOptions) {
    super(code, `${line === undefined ? filename : `${filename}:${line}`}: ${problem}`, options);
    this.filename = filename;
    this.line = line;
  }
}

/** A record that does not parse: a CSV row with the wrong number of fields or a stray quote, invalid JSON. */
export class FileFormatError extends FileRecordError {
  constructor(filename: string, line: number | undefined, problem: string, options?: ErrorOptions) {
    super("PUMP_FILE_FORMAT", filename, line, problem, options);
  }
}

/** Bytes that are not valid in the configured `encoding`. */
export class FileEncodingError extends FileRecordError {
  readonly encoding: string;

  constructor(filename: string, line: number | undefined, encoding: string) {
    super("PUMP_FILE_ENCODING", filename, line, `bytes that are not valid ${encoding}`);
    this.encoding = encoding;
  }
}

/** A line or record longer than `max_record_size`: it is dropped, the rest of the file is read. */
export class FileRecordTooLargeError extends FileRecordError {
  constructor(filename: string, line: number | undefined, limit: number) {
    super("PUMP_FILE_RECORD_TOO_LARGE", filename, line, `record longer than max_record_size (${limit} bytes)`);
  }
}

/** The file could not be read to its end (an I/O error, a corrupt archive); the file is renamed `-failed`. */
export class FileReadError extends FileError {
  readonly filename: string;

  constructor(filename: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? "unknown error");
    super("PUMP_FILE_READ", `${filename}: cannot read: ${reason}`, options);
    this.filename = filename;
  }
}

/** A sink could not write an event: a bad event type, a row with a field the header does not have, an I/O error. */
export class FileWriteError extends FileError {
  readonly filename: string | undefined;

  constructor(filename: string | undefined, problem: string, options?: ErrorOptions) {
    super("PUMP_FILE_WRITE", filename === undefined ? problem : `${filename}: ${problem}`, options);
    this.filename = filename;
  }
}

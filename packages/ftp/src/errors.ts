/**
 * Every error @pump/ftp raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type FtpErrorCode = "PUMP_FTP_CONNECTION" | "PUMP_FTP_TRANSFER" | "PUMP_FTP_RECORD";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * FTP codes are passed through a cast; `code` still reads as one of `FtpErrorCode`.)
 */
export class FtpError extends PumpError {
  constructor(code: FtpErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get ftpCode(): FtpErrorCode {
    return this.code as unknown as FtpErrorCode;
  }
}

/**
 * The server could not be reached, refused the login, or the connection broke. `retriable` is false
 * for a refused login (530) or TLS setup the server does not offer: trying again will not help.
 */
export class FTPConnectionError extends FtpError {
  readonly retriable: boolean;
  /** The FTP reply code when the server gave one (530 login incorrect...). */
  readonly reply: number | undefined;

  constructor(message: string, options: ErrorOptions & { retriable: boolean; reply?: number | undefined }) {
    super("PUMP_FTP_CONNECTION", message, options);
    this.retriable = options.retriable;
    this.reply = options.reply;
  }
}

/** A file could not be listed, downloaded, deleted or moved; the FTP reply code (550...) when known. */
export class FTPTransferError extends FtpError {
  readonly path: string;
  readonly reply: number | undefined;

  constructor(path: string, message: string, options: ErrorOptions & { reply?: number | undefined } = {}) {
    super("PUMP_FTP_TRANSFER", `'${path}': ${message}`, options);
    this.path = path;
    this.reply = options.reply;
  }
}

/** A record of a file that cannot become an event: a line longer than `max_line_size`, text that does not decode. */
export class FTPRecordError extends FtpError {
  readonly filename: string;
  /** 1-based line, when the source reads lines. */
  readonly line: number | undefined;

  constructor(filename: string, line: number | undefined, problem: string, options?: ErrorOptions) {
    super("PUMP_FTP_RECORD", `'${filename}'${line === undefined ? "" : ` line ${line}`}: ${problem}`, options);
    this.filename = filename;
    this.line = line;
  }
}

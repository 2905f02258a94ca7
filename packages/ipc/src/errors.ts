/**
 * Every error @pump/ipc raises, in one place, each with a stable `code`. Configuration problems (a bad
 * `address`) are core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type IpcErrorCode = "PUMP_IPC_LINE_TOO_LONG" | "PUMP_IPC_EVENT" | "PUMP_IPC_NOT_SENT" | "PUMP_IPC_LISTEN";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * ipc codes are passed through a cast; `code` still reads as one of `IpcErrorCode`.)
 */
export class IpcError extends PumpError {
  constructor(code: IpcErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get ipcCode(): IpcErrorCode {
    return this.code as unknown as IpcErrorCode;
  }
}

/** A client sent a line longer than `max_line_size`: it is dropped, the connection goes on. */
export class LineTooLongError extends IpcError {
  readonly peer: string;

  constructor(peer: string, limit: number) {
    super("PUMP_IPC_LINE_TOO_LONG", `'${peer}': line longer than max_line_size (${limit} bytes)`);
    this.peer = peer;
  }
}

/** An event a sink cannot send: not bytes and not a string. */
export class EventTypeError extends IpcError {
  constructor(component: string, got: unknown) {
    super("PUMP_IPC_EVENT", `'${component}': an event must be bytes (Buffer, Uint8Array) or a string, got ${got === null ? "null" : typeof got}`);
  }
}

/** The sink stopped with events it could not send (not connected, or the connection broke). */
export class NotSentError extends IpcError {
  constructor(address: string, reason: string) {
    super("PUMP_IPC_NOT_SENT", `not sent to ${address}: ${reason}`);
  }
}

/** A server socket could not be opened (the port is taken, the path is not a socket...). */
export class ListenError extends IpcError {
  readonly address: string;

  constructor(address: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? "unknown error");
    super("PUMP_IPC_LISTEN", `cannot listen on ${address}: ${reason}`, options);
    this.address = address;
  }
}

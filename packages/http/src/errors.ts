/**
 * Every error @pump/http raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type HttpErrorCode =
  | "PUMP_HTTP_STATUS"
  | "PUMP_HTTP_CONNECTION"
  | "PUMP_HTTP_DELIVERY"
  | "PUMP_HTTP_BODY"
  | "PUMP_HTTP_ENCODE"
  | "PUMP_HTTP_WEBSOCKET";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * HTTP codes are passed through a cast; `code` still reads as one of `HttpErrorCode`.)
 */
export class HttpError extends PumpError {
  constructor(code: HttpErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get httpCode(): HttpErrorCode {
    return this.code as unknown as HttpErrorCode;
  }
}

/**
 * A server answered with a status the component does not take (BSPump's
 * InvalidResponseStatusCodeError). `retriable` is true for 408, 429 and 5xx; `retryAfter` is the
 * server's `Retry-After`, in seconds, when it sent one.
 */
export class HTTPStatusError extends HttpError {
  readonly status: number;
  readonly url: string;
  readonly retriable: boolean;
  readonly retryAfter: number | undefined;

  constructor(status: number, url: string, options: { retryAfter?: number | undefined; body?: string | undefined } = {}) {
    const detail = options.body === undefined || options.body === "" ? "" : `: ${options.body.slice(0, 200)}`;
    super("PUMP_HTTP_STATUS", `The response status code ${status} from '${url}' is invalid${detail}`);
    this.status = status;
    this.url = url;
    this.retriable = isRetriableStatus(status);
    this.retryAfter = options.retryAfter;
  }
}

/** The server could not be reached or the exchange broke off (refused, reset, timed out, DNS). Always worth retrying. */
export class HTTPConnectionError extends HttpError {
  readonly url: string;
  /** The system error code when there is one (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`...). */
  readonly errno: string | undefined;
  readonly retriable = true;

  constructor(url: string, cause: unknown) {
    const errno = systemCode(cause);
    const reason = errno ?? (cause instanceof Error ? cause.message : String(cause));
    super("PUMP_HTTP_CONNECTION", `Cannot reach '${url}': ${reason}`, { cause });
    this.url = url;
    this.errno = errno;
  }
}

/** A sink gave up on events: a permanent HTTP error, or transient ones for longer than its `delivery_timeout`. */
export class HTTPDeliveryError extends HttpError {
  /** How many events the failed request held. */
  readonly events: number;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_HTTP_DELIVERY", message, options);
    this.events = events;
  }
}

/** A request body a web source cannot take: too large, not the expected format, not valid JSON. */
export class HTTPBodyError extends HttpError {
  /** The HTTP status the source answers with (400, 413, 415). */
  readonly status: number;

  constructor(message: string, status: number, options?: ErrorOptions) {
    super("PUMP_HTTP_BODY", message, options);
    this.status = status;
  }
}

/** An event a sink cannot turn into a request body (e.g. a value JSON cannot represent). */
export class HTTPEncodeError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_HTTP_ENCODE", message, options);
  }
}

/** A WebSocket could not be opened, or closed while events waited on it. */
export class WebSocketError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_HTTP_WEBSOCKET", message, options);
  }
}

/** 408 Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx except 501 Not Implemented. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501);
}

/** The system error code (`ECONNREFUSED`...) of an error or of one of its causes. */
export function systemCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
    if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Every error @pump/influxdb raises, in one place, each with a stable `code`. Configuration problems
 * are core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type InfluxDBErrorCode = "PUMP_INFLUXDB_EVENT" | "PUMP_INFLUXDB_POINT" | "PUMP_INFLUXDB_DELIVERY" | "PUMP_INFLUXDB_WRITE";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * InfluxDB codes are passed through a cast; `code` still reads as one of `InfluxDBErrorCode`.)
 */
export class InfluxDBError extends PumpError {
  constructor(code: InfluxDBErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get influxCode(): InfluxDBErrorCode {
    return this.code as unknown as InfluxDBErrorCode;
  }
}

/** An event the sink cannot turn into line protocol (no measurement, no fields, a field that is not a finite number, a string or a boolean...). */
export class InfluxDBEventError extends InfluxDBError {
  constructor(message: string) {
    super("PUMP_INFLUXDB_EVENT", message);
  }
}

/** One write the server answered with an HTTP error, classified. */
export class InfluxDBWriteError extends InfluxDBError {
  /** The HTTP status; undefined when no answer came (refused, reset, timed out). */
  readonly status: number | undefined;
  /** The server's message (`partial write: field type conflict: ...`). */
  readonly reason: string;
  /** Worth trying again as it is: the server busy or down, the network. */
  readonly retriable: boolean;
  /** Milliseconds the server asked to wait (Retry-After), if it did. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number | undefined, reason: string, retriable: boolean, retryAfterMs: number | undefined, options?: ErrorOptions) {
    super("PUMP_INFLUXDB_WRITE", status === undefined ? `InfluxDB write failed: ${reason}` : `InfluxDB answered ${status}: ${reason}`, options);
    this.status = status;
    this.reason = reason;
    this.retriable = retriable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A point the server refused (a field type conflict, a line it cannot parse): the event's lines, and why. */
export class InfluxDBPointError extends InfluxDBError {
  /** The event's line(s) of line protocol, as sent. */
  readonly lines: readonly string[];
  /** The server's words. */
  readonly reason: string;

  constructor(lines: readonly string[], reason: string, options?: ErrorOptions) {
    const shown = lines.join("\\n");
    super("PUMP_INFLUXDB_POINT", `point refused by InfluxDB: ${reason}; line ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`, options);
    this.lines = lines;
    this.reason = reason;
  }
}

/** The sink gave up on events: refused for another reason (authorization, a missing bucket), or transient errors for longer than `delivery_timeout`. */
export class InfluxDBDeliveryError extends InfluxDBError {
  /** How many events were given up on together. */
  readonly events: number;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_INFLUXDB_DELIVERY", message, options);
    this.events = events;
  }
}

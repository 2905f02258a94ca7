/**
 * Every error @pump/redis raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError } from "@pump/core";

export type RedisErrorCode = "PUMP_REDIS_REFUSED" | "PUMP_REDIS_ENCODE";

/** The base of this package's errors. */
export class RedisError extends PumpError {
  declare readonly code: RedisErrorCode;
}

/** Redis answered a write with an error (a key that holds another type: WRONGTYPE): trying again cannot help. */
export class RedisRefusedError extends RedisError {
  /** The list the event was for. */
  readonly list: string;

  constructor(list: string, reason: string, options?: ErrorOptions) {
    super("PUMP_REDIS_REFUSED", `redis refused the event for list '${list}': ${reason}`, options);
    this.list = list;
  }
}

/** An event the sink cannot turn into a list element (a value that does not serialize as JSON). */
export class RedisEncodeError extends RedisError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_REDIS_ENCODE", message, options);
  }
}

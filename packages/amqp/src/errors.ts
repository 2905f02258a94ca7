/**
 * Every error @pump/amqp raises, in one place, each with a stable `code`. Configuration problems are
 * core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type AMQPErrorCode = "PUMP_AMQP_ROUTING" | "PUMP_AMQP_DELIVERY";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the AMQP
 * codes are passed through a cast; `code` still reads as one of `AMQPErrorCode`.)
 */
export class AMQPError extends PumpError {
  constructor(code: AMQPErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get amqpCode(): AMQPErrorCode {
    return this.code as unknown as AMQPErrorCode;
  }
}

/** An event the sink cannot address: no exchange in the context where the sink expects one there, an exchange that does not exist. */
export class AMQPRoutingError extends AMQPError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_AMQP_ROUTING", message, options);
  }
}

/** The sink gave up on events: the broker refused them (nack, channel errors) for longer than `delivery_timeout`, or a stop found them unconfirmed. */
export class AMQPDeliveryError extends AMQPError {
  /** How many events were given up on together. */
  readonly events: number;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_AMQP_DELIVERY", message, options);
    this.events = events;
  }
}

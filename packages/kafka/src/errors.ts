/**
 * Every error @pump/kafka raises, in one place, each with a stable `code`. Configuration problems
 * are core's `ConfigError` (they name the section and the key).
 */
import { PumpError } from "@pump/core";

export type KafkaErrorCode =
  | "PUMP_KAFKA_CLIENT"
  | "PUMP_KAFKA_ENCODE"
  | "PUMP_KAFKA_DELIVERY"
  | "PUMP_KAFKA_TOPIC";

/** The base of this package's errors. */
export class KafkaError extends PumpError {
  declare readonly code: KafkaErrorCode;
}

/**
 * What the Kafka client reported, with the one thing a connector must know about it: whether trying
 * again may help (a broker down, a leader moving, a timeout) or not (a record too large, a topic
 * that may not be written, a bad argument). The client's own error is the `cause`.
 */
export class KafkaClientError extends KafkaError {
  readonly retriable: boolean;
  /** The broker's error name when there is one (e.g. `MESSAGE_TOO_LARGE`, `REBALANCE_IN_PROGRESS`). */
  readonly type: string | undefined;

  constructor(message: string, options: ErrorOptions & { retriable: boolean; type?: string | undefined }) {
    super("PUMP_KAFKA_CLIENT", message, options);
    this.retriable = options.retriable;
    this.type = options.type;
  }
}

/** An event the sink cannot turn into a Kafka record: a value that does not serialize, a record above `message.max.bytes`. */
export class KafkaEncodeError extends KafkaError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_KAFKA_ENCODE", message, options);
  }
}

/** The sink gave up on events: a permanent broker error, or transient ones for longer than `delivery.timeout.ms`. */
export class KafkaDeliveryError extends KafkaError {
  /** How many events the failed send held. */
  readonly events: number;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_KAFKA_DELIVERY", message, options);
    this.events = events;
  }
}

/** Topics could not be listed or created. */
export class KafkaTopicError extends KafkaError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_KAFKA_TOPIC", message, options);
  }
}

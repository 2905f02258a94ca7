import type { ConsumeMessage, MessageProperties, Options } from "amqplib";

/**
 * Context keys. The sources write BSPump's `amqp:method` and `amqp:properties`; the sink reads
 * `amqp.exchange` (with `exchange = !context`), `amqp.routing_key` and `amqp.properties`. The two
 * spellings differ on purpose: an AMQP → AMQP pipeline does not republish to where it read from unless
 * a processor says so.
 */
export const AMQP_METHOD = "amqp:method";
export const AMQP_PROPERTIES = "amqp:properties";
export const AMQP_EXCHANGE = "amqp.exchange";
export const AMQP_ROUTING_KEY = "amqp.routing_key";
export const AMQP_PUBLISH_PROPERTIES = "amqp.properties";

/** What `amqp:method` holds: the delivery's fields. */
export interface AMQPMethod {
  exchange: string;
  routingKey: string;
  deliveryTag: number;
  redelivered: boolean;
  consumerTag: string;
}

/** The context an AMQP source gives each event (plus core's delivery). */
export interface AMQPContext {
  [AMQP_METHOD]: AMQPMethod;
  [AMQP_PROPERTIES]: MessageProperties;
  [key: string]: unknown;
}

/** What the sink reads from a context (all optional). */
export interface AMQPSinkContext {
  [AMQP_EXCHANGE]?: string;
  [AMQP_ROUTING_KEY]?: string;
  /** Properties of the published message (headers, messageId, correlationId, ...), over the sink's defaults. */
  [AMQP_PUBLISH_PROPERTIES]?: Options.Publish;
}

/** The event of an `AMQPFullMessageSource`: the whole message. */
export interface AMQPMessage {
  body: Buffer;
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  deliveryTag: number;
  consumerTag: string;
  /** The message properties (contentType, messageId, timestamp, ...), headers included. */
  properties: MessageProperties;
  /** The headers table (empty when the message has none). */
  headers: Record<string, unknown>;
}

export function methodOf(message: ConsumeMessage): AMQPMethod {
  const f = message.fields;
  return { exchange: f.exchange, routingKey: f.routingKey, deliveryTag: f.deliveryTag, redelivered: f.redelivered, consumerTag: f.consumerTag };
}

export function fullMessage(message: ConsumeMessage): AMQPMessage {
  return {
    body: message.content,
    ...methodOf(message),
    properties: message.properties,
    headers: { ...message.properties.headers },
  };
}

export { AMQPConnection, AMQP_OPEN, AMQP_CLOSE, AMQP_BLOCKED, AMQP_UNBLOCKED, redactUrl, type AMQPConnectionStats } from "./connection.js";
export { AMQPSource, AMQPFullMessageSource, type AMQPSourceStats } from "./source.js";
export { AMQPSink, encode, type AMQPSinkStats } from "./sink.js";
export {
  AMQP_METHOD,
  AMQP_PROPERTIES,
  AMQP_EXCHANGE,
  AMQP_ROUTING_KEY,
  AMQP_PUBLISH_PROPERTIES,
  type AMQPMethod,
  type AMQPContext,
  type AMQPSinkContext,
  type AMQPMessage,
} from "./message.js";
export { AMQPError, AMQPRoutingError, AMQPDeliveryError, type AMQPErrorCode } from "./errors.js";

export { KafkaConnection, type TopicsPreparer } from "./connection.js";
export { KafkaSource } from "./source.js";
export { KafkaSink } from "./sink.js";
export { KafkaKeyFilter } from "./key-filter.js";
export { KafkaTopicInitializer, TOPIC_CONFIG_OPTIONS, type TopicDeclaration } from "./topic-initializer.js";
export { KAFKA_SOURCE, type KafkaContext, type KafkaOrigin, type HeaderValue, type HeadersInput } from "./context.js";
export { encodeValue, encodeKey, encodeHeaders } from "./encode.js";
export { OffsetTracker, Lane, type LaneHost, type LaneState, type RecordToken, type TrackerStats } from "./offsets.js";
export { KafkajsClient } from "./kafkajs-client.js";
export type {
  BatchControl,
  CommitOffset,
  Compression,
  ConsumerBatch,
  ConsumerHandlers,
  ConsumerOptions,
  KafkaAdminClient,
  KafkaClient,
  KafkaClientSettings,
  KafkaConsumerClient,
  KafkaHeaders,
  KafkaMessage,
  KafkaProducerClient,
  KafkaRecord,
  ProducerOptions,
  TopicDescription,
  TopicPartition,
  TopicSpec,
} from "./client.js";
export { KafkaError, KafkaClientError, KafkaEncodeError, KafkaDeliveryError, KafkaTopicError, type KafkaErrorCode } from "./errors.js";

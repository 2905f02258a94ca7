import type { Context } from "@pump/core";
import type { KafkaHeaders } from "./client.js";

/**
 * Where the record an event came from was read: `KafkaSource` puts it in each context. `KafkaSink`
 * uses it to tell the source's own `kafka_topic` (which must not send events back where they came
 * from) from one a processor set to route the event.
 */
export const KAFKA_SOURCE: unique symbol = Symbol.for("@pump/kafka.source");

export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Header values a sink takes: bytes or text (UTF-8), one or several per name. */
export type HeaderValue = Buffer | Uint8Array | string;
export type HeadersInput = Record<string, HeaderValue | HeaderValue[] | null | undefined> | readonly (readonly [string, HeaderValue])[];

/** The keys of a Kafka event's context. */
export interface KafkaContext extends Context {
  /** Source: the topic read. Sink: the topic to write (overrides its `topic` when a processor set it). */
  kafka_topic?: string;
  /** Source: the partition read. (The sink leaves partitions to the key's hash.) */
  kafka_partition?: number;
  /** Source: the record's offset. */
  kafka_offset?: number;
  /** Source: the key as bytes, or null. Sink: the key (bytes, or text encoded as UTF-8). */
  kafka_key?: Buffer | Uint8Array | string | null;
  /** Source: the headers (name → bytes, or an array of bytes when a name repeats). Sink: headers to send. */
  kafka_headers?: KafkaHeaders | HeadersInput;
  /** Source: the record's timestamp, epoch milliseconds. (The sink lets the broker stamp records.) */
  kafka_timestamp?: number;
  [KAFKA_SOURCE]?: KafkaOrigin;
}

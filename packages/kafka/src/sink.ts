import {
  BatchSink,
  ConfigError,
  type BatchEntry,
  type BatchOutcome,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import type { Compression, KafkaProducerClient, KafkaRecord } from "./client.js";
import { COMPRESSIONS, KafkaConnection } from "./connection.js";
import { KAFKA_SOURCE, type KafkaContext } from "./context.js";
import { encodeHeaders, encodeKey, encodeValue, recordSize } from "./encode.js";
import { KafkaClientError, KafkaDeliveryError, KafkaEncodeError } from "./errors.js";
import { keyOf, optBool, optChoice, optCount, optString } from "./options.js";

/** Broker errors about a record of the request (not the topic, the connection or the rights): the rest of the request would be taken. */
const REFUSED_RECORD = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "CORRUPT_MESSAGE", "INVALID_RECORD", "INVALID_TIMESTAMP"]);

/**
 * Writes events to Kafka. The topic is `context.kafka_topic` when a processor set it (not the one a
 * `KafkaSource` read from), else the sink's `topic`; the key is `context.kafka_key`, the headers
 * `context.kafka_headers` (see `encode.ts` for how values, keys and headers become bytes).
 *
 * A `BatchSink`: events are buffered and sent in batches, one request at a time (so records keep their order), as
 * soon as a batch is full or `linger.ms` passed. Each event's delivery is confirmed only when the
 * broker acknowledged it (`acks`). Transient failures are retried with exponential backoff for up
 * to `delivery.timeout.ms`; then, or on a permanent error, the events go through the pipeline's
 * error handling (hard by default: the pipeline stops, the deliveries fail). A request the broker
 * refuses for one of its records is halved until that record stands alone, so only it fails. While the buffer holds
 * more than `watermark.high` events or `watermark.high_bytes` bytes the pipeline is throttled, until
 * it is back under both low watermarks. `stop()` sends what is left.
 */
export class KafkaSink extends BatchSink<unknown, KafkaRecord> {
  static override ConfigDefaults: ConfigValues = {
    topic: "unconfigured",
    encoding: "utf-8",
    "watermark.high": 20000,
    "watermark.low": 10000,
    "watermark.high_bytes": 33554432,
    "watermark.low_bytes": 16777216,
    // BSPump's (librdkafka's) 10000 is slow with kafkajs, whose per-partition grouping of a send is
    // quadratic in the records it holds: smaller sends go faster.
    "batch.num.messages": 2000,
    "batch.size": 1000000,
    "linger.ms": 5,
    "message.max.bytes": 1000000,
    "delivery.timeout.ms": 300000,
    "retry.backoff.ms": 100,
    "retry.backoff.max.ms": 1000,
    acks: "all",
    "request.timeout.ms": 30000,
    "compression.type": "",
    "enable.idempotence": false,
    "allow.auto.create.topics": true,
  };

  readonly connection: KafkaConnection;
  readonly topic: string;
  readonly #encoding: BufferEncoding;
  readonly #maxMessageBytes: number;
  readonly #acks: -1 | 0 | 1;
  readonly #ackTimeoutMs: number;
  readonly #compression: Compression;
  readonly #idempotent: boolean;
  readonly #autoCreate: boolean;
  #producer: KafkaProducerClient | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | KafkaConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof KafkaConnection)) throw new TypeError(`KafkaSink '${this.id}': connection '${located.id}' is not a KafkaConnection`);
    this.connection = located;
    const c = this.config;
    this.topic = optString(c, "topic").trim();
    const encodingKey = keyOf(c, "encoding");
    const encoding = c.get(encodingKey).trim().toLowerCase();
    if (!Buffer.isEncoding(encoding)) throw new ConfigError(`unknown encoding '${encoding}'`, { section: c.section, key: encodingKey }, "PUMP_CONFIG_VALUE");
    this.#encoding = encoding;
    const high = optCount(c, 1, "watermark.high");
    const highBytes = optCount(c, 1, "watermark.high_bytes");
    const backoffMs = optCount(c, 1, "retry.backoff.ms");
    this.limits = {
      batchSize: optCount(c, 1, "batch.num.messages"),
      batchBytes: optCount(c, 1, "batch.size"),
      lingerMs: optCount(c, 0, "linger.ms", "queue.buffering.max.ms"),
      highEvents: high,
      lowEvents: Math.min(optCount(c, 0, "watermark.low"), high),
      highBytes,
      lowBytes: Math.min(optCount(c, 0, "watermark.low_bytes"), highBytes),
      deliveryTimeoutMs: optCount(c, 0, "delivery.timeout.ms", "message.timeout.ms"),
      retryDelayMs: backoffMs,
      retryDelayMaxMs: Math.max(optCount(c, 1, "retry.backoff.max.ms"), backoffMs),
    };
    this.#maxMessageBytes = optCount(c, 1, "message.max.bytes");
    const acks = optChoice(c, ["all", "-1", "1", "0"], "acks", "request.required.acks");
    this.#acks = acks === "all" || acks === "-1" ? -1 : acks === "1" ? 1 : 0;
    this.#ackTimeoutMs = optCount(c, 1, "request.timeout.ms");
    const compressionKey = keyOf(c, "compression.type", "compression.codec");
    this.#compression = c.get(compressionKey).trim() === "" ? located.compression : optChoice(c, COMPRESSIONS, "compression.type", "compression.codec");
    this.#idempotent = optBool(c, "enable.idempotence");
    this.#autoCreate = optBool(c, "allow.auto.create.topics");
    if (this.#idempotent && this.#acks !== -1) {
      throw new ConfigError("enable.idempotence needs acks=all", { section: c.section, key: "acks" }, "PUMP_CONFIG_VALUE");
    }
  }

  protected override get target(): string {
    return `Kafka (topic ${this.topic})`;
  }

  override start(): void {
    if (this.#producer !== undefined) return;
    if (!this.connection.acquire().supportsCompression(this.#compression)) {
      throw new ConfigError(`compression '${this.#compression}' needs a codec the Kafka client does not have`, {
        section: this.config.section,
        key: "compression.type",
      }, "PUMP_CONFIG_VALUE");
    }
    this.#producer = this.connection.createProducer({
      acks: this.#acks,
      compression: this.#compression,
      idempotent: this.#idempotent,
      ackTimeoutMs: this.#ackTimeoutMs,
      allowAutoTopicCreation: this.#autoCreate,
    });
    super.start();
  }

  process(context: Context, event: unknown): void {
    const ctx = context as KafkaContext;
    const routed = ctx.kafka_topic;
    const topic = typeof routed === "string" && routed !== "" && routed !== ctx[KAFKA_SOURCE]?.topic ? routed : this.topic;
    if (topic === "" || topic === "unconfigured") throw new KafkaEncodeError("no topic: set the sink's 'topic' or context.kafka_topic");
    const record: KafkaRecord = {
      topic,
      key: encodeKey(ctx.kafka_key),
      value: encodeValue(event, this.#encoding),
      headers: encodeHeaders(ctx.kafka_headers),
    };
    const size = recordSize(record);
    if (size > this.#maxMessageBytes) {
      throw new KafkaEncodeError(`the record has ${size} bytes, more than message.max.bytes (${this.#maxMessageBytes})`);
    }
    this.enqueue(context, event, record, size);
  }

  /** Sends what is buffered, then closes the producer. Waits at most until the last events' `delivery.timeout.ms`. */
  override async stop(): Promise<void> {
    await super.stop();
    const producer = this.#producer;
    this.#producer = undefined;
    try {
      await producer?.disconnect();
    } catch (error) {
      this.log.warn("The Kafka producer did not close cleanly", { error });
    }
  }

  /** Topic initializers first (they retry while the broker is down). */
  protected override ready(): Promise<unknown> {
    return this.connection.topicsReady();
  }

  protected async send(batch: readonly BatchEntry<KafkaRecord>[]): Promise<BatchOutcome> {
    await this.#producer!.send(batch.map((entry) => entry.payload));
  }

  protected override isTransient(error: unknown): boolean {
    return error instanceof KafkaClientError && error.retriable;
  }

  /** The broker refuses the whole request for one record: halve until it stands alone, so the others go through. */
  protected override refusesEntries(error: unknown): boolean {
    return error instanceof KafkaClientError && error.type !== undefined && REFUSED_RECORD.has(error.type);
  }

  protected override deliveryError(message: string, events: number, cause: unknown): Error {
    return new KafkaDeliveryError(message, events, { cause });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Topic: this.topic };
  }
}

import { setTimeout as delay } from "node:timers/promises";
import {
  ConfigError,
  deliveryOf,
  Sink,
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

interface Item {
  record: KafkaRecord;
  context: Context;
  event: unknown;
  size: number;
  /** performance.now() when the sink took it. */
  at: number;
}

export interface KafkaSinkStats {
  /** Events the broker acknowledged. */
  delivered: number;
  /** Sends that failed and were tried again. */
  retries: number;
  /** Events given up on (permanent error, or `delivery.timeout.ms` passed). */
  failed: number;
  /** Times the sink throttled the pipeline because its buffer was full. */
  throttled: number;
}

/**
 * Writes events to Kafka. The topic is `context.kafka_topic` when a processor set it (not the one a
 * `KafkaSource` read from), else the sink's `topic`; the key is `context.kafka_key`, the headers
 * `context.kafka_headers` (see `encode.ts` for how values, keys and headers become bytes).
 *
 * Events are buffered and sent in batches, one request at a time (so records keep their order), as
 * soon as a batch is full or `linger.ms` passed. Each event's delivery is confirmed only when the
 * broker acknowledged it (`acks`). Transient failures are retried with exponential backoff for up
 * to `delivery.timeout.ms`; then, or on a permanent error, the events go through the pipeline's
 * error handling (hard by default: the pipeline stops, the deliveries fail). A request the broker
 * refuses for one of its records is halved until that record stands alone, so only it fails. While the buffer holds
 * more than `watermark.high` events or `watermark.high_bytes` bytes the pipeline is throttled, until
 * it is back under both low watermarks. `stop()` sends what is left.
 */
export class KafkaSink extends Sink<unknown> {
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

  override readonly confirmsDelivery = true;
  readonly connection: KafkaConnection;
  readonly topic: string;
  readonly stats: KafkaSinkStats = { delivered: 0, retries: 0, failed: 0, throttled: 0 };
  readonly #encoding: BufferEncoding;
  readonly #high: number;
  readonly #low: number;
  readonly #highBytes: number;
  readonly #lowBytes: number;
  readonly #batchCount: number;
  readonly #batchBytes: number;
  readonly #lingerMs: number;
  readonly #maxMessageBytes: number;
  readonly #deliveryTimeoutMs: number;
  readonly #backoffMs: number;
  readonly #backoffMaxMs: number;
  readonly #acks: -1 | 0 | 1;
  readonly #ackTimeoutMs: number;
  readonly #compression: Compression;
  readonly #idempotent: boolean;
  readonly #autoCreate: boolean;

  #queue: Item[] = [];
  #queuedBytes = 0;
  #inflight = 0;
  #inflightBytes = 0;
  #throttling = false;
  #closing = false;
  #wake: PromiseWithResolvers<void> | undefined;
  #loop: Promise<void> | undefined;
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
    this.#high = optCount(c, 1, "watermark.high");
    this.#low = Math.min(optCount(c, 0, "watermark.low"), this.#high);
    this.#highBytes = optCount(c, 1, "watermark.high_bytes");
    this.#lowBytes = Math.min(optCount(c, 0, "watermark.low_bytes"), this.#highBytes);
    this.#batchCount = optCount(c, 1, "batch.num.messages");
    this.#batchBytes = optCount(c, 1, "batch.size");
    this.#lingerMs = optCount(c, 0, "linger.ms", "queue.buffering.max.ms");
    this.#maxMessageBytes = optCount(c, 1, "message.max.bytes");
    this.#deliveryTimeoutMs = optCount(c, 0, "delivery.timeout.ms", "message.timeout.ms");
    this.#backoffMs = optCount(c, 1, "retry.backoff.ms");
    this.#backoffMaxMs = Math.max(optCount(c, 1, "retry.backoff.max.ms"), this.#backoffMs);
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

  /** Events taken and not yet acknowledged by the broker (queued and in flight). */
  get buffered(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Bytes of the events taken and not yet acknowledged. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    if (!this.connection.acquire().supportsCompression(this.#compression)) {
      throw new ConfigError(`compression '${this.#compression}' needs a codec the Kafka client does not have`, {
        section: this.config.section,
        key: "compression.type",
      }, "PUMP_CONFIG_VALUE");
    }
    this.#closing = false;
    this.#producer = this.connection.createProducer({
      acks: this.#acks,
      compression: this.#compression,
      idempotent: this.#idempotent,
      ackTimeoutMs: this.#ackTimeoutMs,
      allowAutoTopicCreation: this.#autoCreate,
    });
    this.#loop = this.#run(this.#producer);
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
    this.#queue.push({ record, context, event, size, at: performance.now() });
    this.#queuedBytes += size;
    this.#updateThrottle();
    this.#signal();
  }

  /** Sends what is buffered, then closes the producer. Waits at most until the last events' `delivery.timeout.ms`. */
  override async stop(): Promise<void> {
    this.#closing = true;
    this.#signal();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
    const producer = this.#producer;
    this.#producer = undefined;
    try {
      await producer?.disconnect();
    } catch (error) {
      this.log.warn("The Kafka producer did not close cleanly", { error });
    }
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.resolve();
  }

  #sleep(ms: number): Promise<void> {
    const wake = (this.#wake ??= Promise.withResolvers<void>());
    if (ms === Infinity) return wake.promise;
    return Promise.race([wake.promise, delay(ms, undefined, { ref: false })]);
  }

  #updateThrottle(): void {
    const count = this.buffered;
    const bytes = this.bufferedBytes;
    if (!this.#throttling && (count >= this.#high || bytes >= this.#highBytes)) {
      this.#throttling = true;
      this.stats.throttled++;
      this.pipeline.throttle(this, true);
    } else if (this.#throttling && count <= this.#low && bytes <= this.#lowBytes) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  async #run(producer: KafkaProducerClient): Promise<void> {
    // Topic initializers first (they retry while the broker is down); a stop does not wait for them.
    const topicsReady = this.connection.topicsReady().then(() => true);
    while (!this.#closing && !(await Promise.race([topicsReady, this.#sleep(Infinity).then(() => false)]))) {
      // woken by an event or by stop(): look again
    }
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await this.#sleep(Infinity);
        continue;
      }
      const full = this.#queue.length >= this.#batchCount || this.#queuedBytes >= this.#batchBytes;
      if (!full && !this.#closing && !this.#throttling) {
        const wait = this.#lingerMs - (performance.now() - this.#queue[0]!.at);
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
      }
      const batch = this.#take();
      await this.#deliver(producer, batch);
      this.#inflight = 0;
      this.#inflightBytes = 0;
      this.#updateThrottle();
    }
  }

  /** The next batch: at most `batch.num.messages` events and `batch.size` bytes (at least one event). */
  #take(): Item[] {
    let n = 0;
    let size = 0;
    while (n < this.#queue.length && n < this.#batchCount) {
      const next = this.#queue[n]!.size;
      if (n > 0 && size + next > this.#batchBytes) break;
      size += next;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#queuedBytes -= size;
    this.#inflight = n;
    this.#inflightBytes = size;
    return batch;
  }

  async #deliver(producer: KafkaProducerClient, batch: Item[]): Promise<void> {
    const deadline = batch[0]!.at + this.#deliveryTimeoutMs;
    let backoff = this.#backoffMs;
    let attempts = 0;
    for (;;) {
      try {
        await producer.send(batch.map((item) => item.record));
        break;
      } catch (thrown) {
        const error =
          thrown instanceof KafkaClientError ? thrown : new KafkaClientError(`Cannot send to Kafka: ${(thrown as Error)?.message ?? String(thrown)}`, { cause: thrown, retriable: false });
        const left = deadline - performance.now();
        if (error.retriable && left > 0) {
          attempts++;
          this.stats.retries++;
          if (attempts === 1) this.log.warn("Sending to Kafka failed; retrying", { error, events: batch.length });
          else this.log.debug("Sending to Kafka failed again", { error, attempts });
          await delay(Math.min(backoff, left), undefined, { ref: false });
          backoff = Math.min(backoff * 2, this.#backoffMaxMs);
          continue;
        }
        if (batch.length > 1 && error.type !== undefined && REFUSED_RECORD.has(error.type)) {
          // the broker refuses the whole request for one record: halve until it stands alone, so the others go through
          const half = batch.length >> 1;
          await this.#deliver(producer, batch.slice(0, half));
          await this.#deliver(producer, batch.slice(half));
          return;
        }
        this.#giveUp(batch, error, attempts);
        return;
      }
    }
    if (attempts > 0) this.log.notice("Sending to Kafka works again", { attempts, events: batch.length });
    this.stats.delivered += batch.length;
    for (const item of batch) deliveryOf(item.context)?.done();
  }

  /**
   * The sink gives up on a batch: the pipeline's error handling decides, as for an event a processor
   * failed on. Hard (the default): the pipeline stops and every delivery fails (a Kafka source will
   * read those records again). Soft or routed: the events are dropped (or routed) and confirmed.
   */
  #giveUp(batch: Item[], cause: KafkaClientError, attempts: number): void {
    const error = new KafkaDeliveryError(
      `gave up sending ${batch.length} event(s) to Kafka${attempts > 0 ? ` after ${attempts} retries` : ""}: ${cause.message}`,
      batch.length,
      { cause },
    );
    this.stats.failed += batch.length;
    const first = batch[0]!;
    const hard = this.pipeline.setError(first.context, first.event, error, this);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const soft = i === 0 ? !hard : !hard && !this.pipeline.setError(item.context, item.event, error, this);
      const delivery = deliveryOf(item.context);
      if (delivery === undefined) continue;
      if (soft) delivery.done();
      else delivery.fail(error);
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Topic: this.topic, Buffered: this.buffered, BufferedBytes: this.bufferedBytes, Stats: { ...this.stats } };
  }
}

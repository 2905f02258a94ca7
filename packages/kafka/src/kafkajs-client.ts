/**
 * The kafkajs implementation of `client.ts`: the only file of the package that imports kafkajs.
 */
import kafkajs from "kafkajs";
import type { Admin, Consumer, IHeaders, KafkaConfig, KafkaMessage as KafkajsMessage, LogEntry, Message, Producer, SASLOptions } from "kafkajs";
import type {
  BatchControl,
  CommitOffset,
  Compression,
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
import { KafkaClientError } from "./errors.js";

const { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } = kafkajs;

const VERSION = "kafkajs 2";

/** Programming errors inside the client: retrying cannot help. */
const UNRECOVERABLE = new Set(["TypeError", "RangeError", "SyntaxError", "ReferenceError"]);

/**
 * Turns whatever kafkajs threw into a `KafkaClientError` saying whether to try again. kafkajs wraps
 * errors (a retrier gives up with `KafkaJSNumberOfRetriesExceeded` around the last error): the
 * innermost cause decides. Connection errors, timeouts and retriable broker errors are retriable;
 * broker errors marked permanent (MESSAGE_TOO_LARGE, TOPIC_AUTHORIZATION_FAILED...), bad arguments
 * and programming errors are not.
 */
export function classifyError(error: unknown, doing: string): KafkaClientError {
  if (error instanceof KafkaClientError) return error;
  let root: unknown = error;
  let type: string | undefined;
  const seen = new Set<unknown>();
  for (;;) {
    if (typeof root !== "object" || root === null || seen.has(root)) break;
    seen.add(root);
    const t = (root as { type?: unknown }).type;
    if (typeof t === "string" && type === undefined) type = t;
    const cause = (root as { cause?: unknown }).cause;
    if (cause === undefined || cause === null) break;
    root = cause;
  }
  const name = root instanceof Error ? root.name : "";
  let retriable: boolean;
  if (UNRECOVERABLE.has(name)) retriable = false;
  else if (name === "KafkaJSProtocolError" || typeof (root as { type?: unknown })?.type === "string") retriable = (root as { retriable?: unknown }).retriable !== false;
  else if (name === "KafkaJSNonRetriableError") retriable = false;
  else retriable = true;
  const outer = error instanceof Error ? error.message : String(error);
  const inner = root instanceof Error ? root.message : String(root);
  const message = inner === outer ? `${doing}: ${outer}` : `${doing}: ${outer} (${inner})`;
  return new KafkaClientError(message, { cause: error, retriable, type });
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === "string" ? Buffer.from(value) : value;
}

function fromKafkajsHeaders(headers: IHeaders | undefined): KafkaHeaders {
  const out: KafkaHeaders = {};
  if (headers === undefined) return out;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(toBuffer) : toBuffer(value);
  }
  return out;
}

function fromKafkajsMessage(topic: string, partition: number, m: KafkajsMessage): KafkaMessage {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    headers: fromKafkajsHeaders(m.headers),
    timestamp: Number(m.timestamp),
  };
}

function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = grouped.get(topic);
    if (list === undefined) grouped.set(topic, [partition]);
    else list.push(partition);
  }
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}

/**
 * kafkajs logs every failed connection attempt as an error, many per second while a broker is down.
 * The connector logs what it decides (retrying, waiting, giving up) as warnings and errors; the
 * client's own lines go to info (its errors and warnings) and debug.
 */
const LEVELS = new Map<number, "debug" | "info" | "warn" | "error">([
  [logLevel.ERROR, "info"],
  [logLevel.WARN, "info"],
  [logLevel.INFO, "debug"],
  [logLevel.DEBUG, "debug"],
]);

class KafkajsConsumer implements KafkaConsumerClient {
  readonly #kafka: InstanceType<typeof Kafka>;
  readonly #options: ConsumerOptions;
  #consumer: Consumer | undefined;

  constructor(kafka: InstanceType<typeof Kafka>, options: ConsumerOptions) {
    this.#kafka = kafka;
    this.#options = options;
  }

  async start(subscription: { topics: (string | RegExp)[]; fromBeginning: boolean }, handlers: ConsumerHandlers): Promise<void> {
    const o = this.#options;
    const consumer = this.#kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.maxWaitMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      maxBytes: o.maxBytes,
      readUncommitted: !o.readCommitted,
      allowAutoTopicCreation: o.allowAutoTopicCreation,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        for (const partition of partitions) assignment.push({ topic, partition });
      }
      handlers.onAssigned(assignment);
    });
    consumer.on(consumer.events.REBALANCING, () => handlers.onRebalancing());
    consumer.on(consumer.events.CRASH, (event) => handlers.onCrash(classifyError(event.payload.error, "Consumer crashed"), event.payload.restart));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: subscription.topics, fromBeginning: subscription.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const { topic, partition } = batch;
          const control: BatchControl = {
            heartbeat: async () => {
              try {
                await heartbeat();
              } catch (error) {
                throw classifyError(error, "Heartbeat failed");
              }
            },
            resolve: (offset) => resolveOffset(String(offset)),
            isStale,
            isRunning,
          };
          await handlers.onBatch({ topic, partition, messages: batch.messages.map((m) => fromKafkajsMessage(topic, partition, m)) }, control);
        },
      });
    } catch (error) {
      throw classifyError(error, "Cannot start the consumer");
    }
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
    } catch (error) {
      throw classifyError(error, "Cannot commit offsets");
    }
  }

  seek({ topic, partition }: TopicPartition, offset: number): void {
    try {
      this.#consumer?.seek({ topic, partition, offset: String(offset) });
    } catch {
      // not running (between a crash and its restart): it reads from the committed offsets when it rejoins
    }
  }

  pause(partitions: TopicPartition[]): void {
    try {
      this.#consumer?.pause(byTopic(partitions));
    } catch {
      // not running (between a crash and its restart): nothing is fetched anyway
    }
  }

  resume(partitions: TopicPartition[]): void {
    try {
      this.#consumer?.resume(byTopic(partitions));
    } catch {
      // not running
    }
  }

  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer === undefined) return;
    try {
      await consumer.disconnect();
    } catch (error) {
      throw classifyError(error, "Cannot stop the consumer");
    }
  }
}

const COMPRESSION: Record<Compression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** kafkajs has gzip built in; the others need a codec registered in `CompressionCodecs` by the application. */
function compressionAvailable(compression: Compression): boolean {
  if (compression === "none" || compression === "gzip") return true;
  return (CompressionCodecs as Record<number, unknown>)[COMPRESSION[compression]] !== undefined;
}

function toKafkajsHeaders(headers: KafkaHeaders | undefined): IHeaders | undefined {
  if (headers === undefined) return undefined;
  return headers as IHeaders;
}

class KafkajsProducer implements KafkaProducerClient {
  readonly #producer: Producer;
  readonly #options: ProducerOptions;
  #connected: Promise<void> | undefined;

  constructor(kafka: InstanceType<typeof Kafka>, options: ProducerOptions) {
    this.#options = options;
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: options.allowAutoTopicCreation,
      idempotent: options.idempotent,
      ...(options.idempotent ? { maxInFlightRequests: 1 } : {}),
    });
  }

  async send(records: KafkaRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      this.#connected ??= this.#producer.connect().catch((error: unknown) => {
        this.#connected = undefined;
        throw error;
      });
      await this.#connected;
      const topics = new Map<string, Message[]>();
      for (const r of records) {
        const message: Message = { key: r.key, value: r.value, headers: toKafkajsHeaders(r.headers) };
        if (r.partition !== undefined) message.partition = r.partition;
        if (r.timestamp !== undefined) message.timestamp = String(r.timestamp);
        const list = topics.get(r.topic);
        if (list === undefined) topics.set(r.topic, [message]);
        else list.push(message);
      }
      await this.#producer.sendBatch({
        topicMessages: [...topics].map(([topic, messages]) => ({ topic, messages })),
        acks: this.#options.acks,
        timeout: this.#options.ackTimeoutMs,
        compression: COMPRESSION[this.#options.compression],
      });
    } catch (error) {
      throw classifyError(error, "Cannot send to Kafka");
    }
  }

  async disconnect(): Promise<void> {
    const connected = this.#connected;
    this.#connected = undefined;
    if (connected === undefined) return;
    try {
      await connected.catch(() => {});
      await this.#producer.disconnect();
    } catch (error) {
      throw classifyError(error, "Cannot disconnect the producer");
    }
  }
}

class KafkajsAdmin implements KafkaAdminClient {
  readonly #admin: Admin;

  constructor(admin: Admin) {
    this.#admin = admin;
  }

  async listTopics(): Promise<string[]> {
    try {
      return await this.#admin.listTopics();
    } catch (error) {
      throw classifyError(error, "Cannot list topics");
    }
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      await this.#admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      throw classifyError(error, "Cannot create topics");
    }
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    try {
      const { topics: found } = await this.#admin.fetchTopicMetadata({ topics });
      return found.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
    } catch (error) {
      throw classifyError(error, "Cannot describe topics");
    }
  }

  async fetchCommitted(groupId: string, topic: string): Promise<{ partition: number; offset: number }[]> {
    try {
      const result = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
      return (result[0]?.partitions ?? []).map((p) => ({ partition: p.partition, offset: Number(p.offset) }));
    } catch (error) {
      throw classifyError(error, "Cannot fetch committed offsets");
    }
  }

  async disconnect(): Promise<void> {
    await this.#admin.disconnect().catch(() => {});
  }
}

/**
 * The default client of `KafkaConnection`. `overrides` are kafkajs options the configuration has no
 * key for, laid over the ones built from it: a `socketFactory` (a proxy, custom DNS), say, given
 * from a `KafkaConnection` subclass's `createClient()`.
 */
export class KafkajsClient implements KafkaClient {
  readonly description = VERSION;
  readonly #kafka: InstanceType<typeof Kafka>;

  constructor(settings: KafkaClientSettings, overrides: Partial<KafkaConfig> = {}) {
    this.#kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ssl: settings.ssl === false ? false : settings.ssl,
      ...(settings.sasl === undefined ? {} : { sasl: settings.sasl as SASLOptions }),
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      retry: { retries: settings.retries, initialRetryTime: settings.retryInitialMs, maxRetryTime: settings.retryMaxMs },
      logLevel: logLevel.INFO,
      logCreator:
        () =>
        ({ namespace, level, log }: LogEntry) => {
          const { message, timestamp: _timestamp, logger: _logger, ...fields } = log as { message: string; timestamp?: unknown; logger?: unknown } & Record<string, unknown>;
          settings.log(LEVELS.get(level) ?? "debug", namespace === "" ? message : `${namespace}: ${message}`, fields);
        },
      ...overrides,
    });
  }

  consumer(options: ConsumerOptions): KafkaConsumerClient {
    return new KafkajsConsumer(this.#kafka, options);
  }

  producer(options: ProducerOptions): KafkaProducerClient {
    return new KafkajsProducer(this.#kafka, options);
  }

  supportsCompression(compression: Compression): boolean {
    return compressionAvailable(compression);
  }

  async admin(): Promise<KafkaAdminClient> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => {});
      throw classifyError(error, "Cannot connect the admin client");
    }
    return new KafkajsAdmin(admin);
  }
}

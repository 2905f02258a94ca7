/**
 * What the connector needs from a Kafka client, and nothing more. Sources and sinks speak only this;
 * `KafkaConnection` builds the implementation (kafkajs, in `kafkajs-client.ts`), so another client can
 * replace it by overriding `KafkaConnection.createClient()` without touching sources and sinks.
 *
 * Offsets are JavaScript numbers (exact up to 2^53, far beyond any real partition).
 */

/** Header values as they travel: bytes; a header sent several times under one name gives an array. */
export type KafkaHeaders = Record<string, Buffer | Buffer[]>;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A record read from a partition. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeaders;
  /** Epoch milliseconds (the record's CreateTime or LogAppendTime). */
  timestamp: number;
}

/** A record to write. */
export interface KafkaRecord {
  topic: string;
  key: Buffer | null;
  /** null is a tombstone. */
  value: Buffer | null;
  headers: KafkaHeaders | undefined;
  /** Left to the partitioner (murmur2 of the key, as the Java client) when undefined. */
  partition?: number | undefined;
  /** Epoch milliseconds; the broker's clock when undefined. */
  timestamp?: number | undefined;
}

export type Compression = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** What `KafkaConnection` reads from its section; the client turns it into its own options. */
export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  /** TLS options (Node's `tls.connect` shape) when the protocol is SSL or SASL_SSL. */
  ssl: false | { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string; rejectUnauthorized: boolean; servername?: string };
  sasl: undefined | { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Retries the client makes by itself before it reports an error. */
  retries: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Client log lines go here (the connection's logger). */
  log: (level: "debug" | "info" | "warn" | "error", message: string, fields: Record<string, unknown>) => void;
}

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitMs: number;
  maxBytesPerPartition: number;
  maxBytes: number;
  /** Read committed transactional data only (isolation.level=read_committed). */
  readCommitted: boolean;
  allowAutoTopicCreation: boolean;
}

/** One partition's worth of records, handed to `onBatch`. */
export interface ConsumerBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

/** What `onBatch` may do while it holds a batch. */
export interface BatchControl {
  /**
   * Keeps the group membership alive while the batch waits (rate-limited by the client). Rejects with
   * a `KafkaClientError` whose `type` is `REBALANCE_IN_PROGRESS` when the group rebalances: the member
   * should then hand nothing more over, so that it rejoins soon after `onBatch` returns.
   */
  heartbeat(): Promise<void>;
  /** Moves the fetch position past `offset`: the records up to it were taken (this commits nothing). */
  resolve(offset: number): void;
  /** True when a seek is pending for the partition: the batch is out of date. */
  isStale(): boolean;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
}

export interface ConsumerHandlers {
  /** Called for one partition's batch at a time, in order; the next one waits for the returned promise. */
  onBatch(batch: ConsumerBatch, control: BatchControl): Promise<void>;
  /** After each (re)join of the group: the partitions this member owns now. */
  onAssigned(assignment: TopicPartition[]): void;
  /** The group is rebalancing: the member is about to rejoin (and may lose partitions). */
  onRebalancing(): void;
  /** The client gave up; `restarting` says whether it restarts by itself. */
  onCrash(error: unknown, restarting: boolean): void;
}

export interface CommitOffset extends TopicPartition {
  /** The next offset to read (the last processed + 1), as Kafka stores it. */
  offset: number;
}

export interface KafkaConsumerClient {
  /** Connects, subscribes and starts fetching; rejects when the broker cannot be reached. */
  start(subscription: { topics: (string | RegExp)[]; fromBeginning: boolean }, handlers: ConsumerHandlers): Promise<void>;
  commit(offsets: CommitOffset[]): Promise<void>;
  /** The next fetch of the partition starts at `offset`. */
  seek(partition: TopicPartition, offset: number): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Stops fetching (after the batch in hand), leaves the group, disconnects. */
  stop(): Promise<void>;
}

export interface ProducerOptions {
  /** -1: all in-sync replicas, 1: the leader, 0: none. */
  acks: -1 | 0 | 1;
  compression: Compression;
  idempotent: boolean;
  /** How long the broker may take to reach `acks` (request.timeout.ms of a produce request). */
  ackTimeoutMs: number;
  allowAutoTopicCreation: boolean;
}

export interface KafkaProducerClient {
  /** Sends records (any topics) and resolves when the broker acknowledged all of them. Connects when needed. */
  send(records: KafkaRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  config: Record<string, string>;
}

export interface TopicDescription {
  topic: string;
  partitions: number;
}

export interface KafkaAdminClient {
  listTopics(): Promise<string[]>;
  createTopics(topics: TopicSpec[]): Promise<void>;
  describeTopics(topics: string[]): Promise<TopicDescription[]>;
  /** Committed offsets of a group, per partition (-1 when none). */
  fetchCommitted(groupId: string, topic: string): Promise<{ partition: number; offset: number }[]>;
  disconnect(): Promise<void>;
}

/** The factory a `KafkaConnection` holds: one per connection. */
export interface KafkaClient {
  consumer(options: ConsumerOptions): KafkaConsumerClient;
  producer(options: ProducerOptions): KafkaProducerClient;
  /** A connected admin client (the caller disconnects it). */
  admin(): Promise<KafkaAdminClient>;
  /** Whether records can be compressed this way (kafkajs needs a codec registered for all but gzip). */
  supportsCompression(compression: Compression): boolean;
  /** The client's name and version, for logs. */
  readonly description: string;
}

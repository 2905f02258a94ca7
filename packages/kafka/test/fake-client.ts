/**
 * A stand-in for the Kafka client behind `KafkaConnection`, for unit tests of what the source and the
 * sink decide (throttling, retries, commits, rewinds). It implements the package's own client
 * interfaces, not Kafka's protocol: the protocol is tested against the real broker.
 */
import type { PumpApplication, ComponentOptions } from "@pump/core";
import {
  KafkaClientError,
  KafkaConnection,
  type BatchControl,
  type CommitOffset,
  type Compression,
  type ConsumerBatch,
  type ConsumerHandlers,
  type ConsumerOptions,
  type KafkaAdminClient,
  type KafkaClient,
  type KafkaConsumerClient,
  type KafkaMessage,
  type KafkaProducerClient,
  type KafkaRecord,
  type ProducerOptions,
  type TopicPartition,
} from "../src/index.js";

export class FakeProducer implements KafkaProducerClient {
  readonly sent: KafkaRecord[][] = [];
  /** Errors the next sends throw, one per send. */
  readonly failures: unknown[] = [];
  /** When set, sends wait for it. */
  gate: Promise<void> | undefined;
  attempts = 0;
  disconnected = false;

  async send(records: KafkaRecord[]): Promise<void> {
    this.attempts++;
    if (this.gate !== undefined) await this.gate;
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
    this.sent.push(records);
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
  }

  get records(): KafkaRecord[] {
    return this.sent.flat();
  }
}

export class FakeConsumer implements KafkaConsumerClient {
  handlers: ConsumerHandlers | undefined;
  subscription: { topics: (string | RegExp)[]; fromBeginning: boolean } | undefined;
  readonly commits: CommitOffset[][] = [];
  readonly seeks: { tp: TopicPartition; offset: number }[] = [];
  readonly paused = new Set<string>();
  running = false;
  stale = new Set<string>();
  heartbeats = 0;
  /** While set, heartbeats say the group rebalances. */
  rebalancing = false;
  /** While set, heartbeats fail with it. */
  heartbeatFailure: unknown;
  /** Makes `start()` fail this many times (a broker that is down). */
  startFailures = 0;

  async start(subscription: { topics: (string | RegExp)[]; fromBeginning: boolean }, handlers: ConsumerHandlers): Promise<void> {
    if (this.startFailures > 0) {
      this.startFailures--;
      throw new KafkaClientError("Cannot start the consumer: connect ECONNREFUSED", { retriable: true });
    }
    this.subscription = subscription;
    this.handlers = handlers;
    this.running = true;
  }

  /** Hands a batch to the source as the client would; resolves when the source returns. */
  deliver(topic: string, partition: number, offsets: number[], value = (o: number) => `v${o}`): Promise<void> {
    const messages: KafkaMessage[] = offsets.map((offset) => ({
      topic,
      partition,
      offset,
      key: Buffer.from(`k${offset}`),
      value: Buffer.from(value(offset)),
      headers: { h: Buffer.from("x") },
      timestamp: 1_700_000_000_000 + offset,
    }));
    const batch: ConsumerBatch = { topic, partition, messages };
    const control: BatchControl = {
      heartbeat: async () => {
        this.heartbeats++;
        if (this.rebalancing) throw new KafkaClientError("Heartbeat failed: The group is rebalancing", { retriable: false, type: "REBALANCE_IN_PROGRESS" });
        if (this.heartbeatFailure !== undefined) throw this.heartbeatFailure;
      },
      resolve: () => {},
      isStale: () => this.stale.has(`${topic}:${partition}`),
      isRunning: () => this.running,
    };
    return this.handlers!.onBatch(batch, control);
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    this.commits.push(offsets);
  }

  /** The last committed offset of a partition. */
  committed(topic: string, partition: number): number | undefined {
    let found: number | undefined;
    for (const batch of this.commits) for (const c of batch) if (c.topic === topic && c.partition === partition) found = c.offset;
    return found;
  }

  seek(tp: TopicPartition, offset: number): void {
    this.seeks.push({ tp, offset });
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(`${tp.topic}:${tp.partition}`);
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(`${tp.topic}:${tp.partition}`);
  }

  async stop(): Promise<void> {
    this.running = false;
  }
}

export class FakeClient implements KafkaClient {
  readonly description = "fake";
  readonly producers: FakeProducer[] = [];
  readonly consumers: FakeConsumer[] = [];
  readonly producerOptions: ProducerOptions[] = [];
  readonly consumerOptions: ConsumerOptions[] = [];
  /** Failures given to the next consumers' `start()`. */
  consumerStartFailures = 0;

  consumer(options: ConsumerOptions): KafkaConsumerClient {
    const consumer = new FakeConsumer();
    consumer.startFailures = this.consumerStartFailures;
    this.consumerStartFailures = 0;
    this.consumers.push(consumer);
    this.consumerOptions.push(options);
    return consumer;
  }

  producer(options: ProducerOptions): KafkaProducerClient {
    const producer = new FakeProducer();
    this.producers.push(producer);
    this.producerOptions.push(options);
    return producer;
  }

  admin(): Promise<KafkaAdminClient> {
    throw new Error("no admin in the fake client");
  }

  supportsCompression(compression: Compression): boolean {
    return compression === "none" || compression === "gzip";
  }
}

/** A KafkaConnection whose client is a FakeClient. */
export class FakeKafkaConnection extends KafkaConnection {
  readonly fake = new FakeClient();

  constructor(app: PumpApplication, id: string = "KafkaConnection", options: ComponentOptions = {}) {
    super(app, id, { ...options, config: { bootstrap_servers: "fake:9092", ...options.config } });
  }

  protected override createClient(): KafkaClient {
    return this.fake;
  }
}

import { setTimeout as delay } from "node:timers/promises";
import { DELIVERY, isStopSignal, Source, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import type { BatchControl, ConsumerBatch, ConsumerHandlers, ConsumerOptions, KafkaConsumerClient, KafkaMessage, TopicPartition } from "./client.js";
import { KafkaConnection } from "./connection.js";
import { KAFKA_SOURCE, type KafkaContext } from "./context.js";
import { KafkaClientError } from "./errors.js";
import { OffsetTracker, type Lane } from "./offsets.js";
import { keyOf, optBool, optChoice, optCount, optString, splitList } from "./options.js";

/**
 * Broker answers that mean the member must rejoin the group. (NOT_COORDINATOR is not one of them: the
 * coordinator moved, e.g. after a broker restart; the client finds the new one and goes on.)
 */
const REBALANCING = new Set(["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]);
const STOP = Symbol("stop");
/** Between two tries of a failed commit. */
const COMMIT_RETRY_MS = 1000;

function isRebalancing(error: unknown): boolean {
  return error instanceof KafkaClientError && error.type !== undefined && REBALANCING.has(error.type);
}

const tpKey = (tp: TopicPartition): string => `${tp.partition}:${tp.topic}`;

/**
 * Reads Kafka topics as a member of a consumer group and hands each fetched batch to the pipeline
 * with one await. Events are the records' values (Buffer, or null for a tombstone); each context
 * has `kafka_topic`, `kafka_partition`, `kafka_offset`, `kafka_key`, `kafka_headers` and
 * `kafka_timestamp`.
 *
 * At-least-once: offsets are committed only over records the pipeline settled (see `offsets.ts`),
 * in order per partition, soon after they settle. A failed delivery is never committed past: the
 * partition is paused, and once everything handed over from it has settled it is read again from
 * the failed record on. Several pumps with the same `group_id` share the partitions.
 */
export class KafkaSource extends Source<Buffer | null> {
  static override ConfigDefaults: ConfigValues = {
    topic: "unconfigured",
    group_id: "bspump",
    auto_offset_reset: "earliest",
    buffer_size: 1000,
    session_timeout_ms: 30000,
    heartbeat_interval_ms: 3000,
    rebalance_timeout_ms: 60000,
    fetch_wait_max_ms: 500,
    max_partition_fetch_bytes: 1048576,
    fetch_max_bytes: 10485760,
    isolation_level: "read_committed",
    allow_auto_create_topics: true,
    sleep_on_error: 3.0,
    drain_timeout: 10.0,
  };

  readonly connection: KafkaConnection;
  /** Topic names, and regular expressions for names starting with `^` (matched when subscribing). */
  readonly topics: readonly (string | RegExp)[];
  readonly groupId: string;
  readonly #consumerOptions: ConsumerOptions;
  readonly #fromBeginning: boolean;
  readonly #bufferSize: number;
  readonly #sleepOnError: number;
  readonly #drainTimeout: number;
  readonly #tracker: OffsetTracker;
  #consumer: KafkaConsumerClient | undefined;
  #assignment: TopicPartition[] = [];
  readonly #paused = new Map<string, TopicPartition>();
  #draining = false;
  /** A heartbeat said the group rebalances: hand nothing more over until the member has rejoined. */
  #rebalancing = false;
  #rejoinPrepared = false;
  readonly #commits = new Map<string, { topic: string; partition: number; offset: number; lane: Lane }>();
  #committing: Promise<void> | undefined;
  /** Offsets committed, per partition, by this source (for views and tests). */
  readonly committed = new Map<string, number>();

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | KafkaConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof KafkaConnection)) throw new TypeError(`KafkaSource '${this.id}': connection '${located.id}' is not a KafkaConnection`);
    this.connection = located;
    const c = this.config;
    this.topics = splitList(c.get("topic")).map((t) => (t.startsWith("^") ? new RegExp(t) : t));
    this.groupId = optString(c, "group_id").trim();
    const reset = optChoice(c, ["earliest", "latest", "smallest", "largest", "beginning", "end"], "auto_offset_reset");
    this.#fromBeginning = reset === "earliest" || reset === "smallest" || reset === "beginning";
    this.#bufferSize = optCount(c, 1, "buffer_size");
    this.#sleepOnError = c.getSeconds(keyOf(c, "sleep_on_error"));
    this.#drainTimeout = c.getSeconds(keyOf(c, "drain_timeout"));
    this.#consumerOptions = {
      groupId: this.groupId,
      sessionTimeoutMs: optCount(c, 1, "session_timeout_ms"),
      heartbeatIntervalMs: optCount(c, 1, "heartbeat_interval_ms"),
      rebalanceTimeoutMs: optCount(c, 1, "rebalance_timeout_ms", "max_poll_interval_ms"),
      maxWaitMs: optCount(c, 0, "fetch_wait_max_ms"),
      maxBytesPerPartition: optCount(c, 1, "max_partition_fetch_bytes"),
      maxBytes: optCount(c, 1, "fetch_max_bytes"),
      readCommitted: optChoice(c, ["read_committed", "read_uncommitted"], "isolation_level") === "read_committed",
      allowAutoTopicCreation: optBool(c, "allow_auto_create_topics"),
    };
    this.#tracker = new OffsetTracker({
      commit: (tp, offset) => this.#commit(tp as Lane, offset),
      pause: (tp) => this.#pause(tp),
      rewind: (tp, offset) => this.#rewind(tp, offset),
      failed: (tp, offset, error) =>
        this.log.warn("Delivery failed: the partition is paused, not committed past it, and read again from there once its events settled", {
          topic: tp.topic,
          partition: tp.partition,
          offset,
          error,
        }),
    });
  }

  /** What the offset tracking counted: records handed over, settled, failed, rewinds, rebalances. */
  get stats(): Readonly<OffsetTracker["stats"]> {
    return this.#tracker.stats;
  }

  /** The partitions this member owns now. */
  get assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  async main(): Promise<void> {
    if (this.topics.length === 0) throw new TypeError(`KafkaSource '${this.id}': no topic configured`);
    await Promise.race([this.connection.topicsReady(), this.stopped()]);
    while (!this.signal.aborted) {
      const consumer = this.connection.createConsumer(this.#consumerOptions);
      const crashed = Promise.withResolvers<unknown>();
      this.#consumer = consumer;
      try {
        const starting = consumer.start({ topics: [...this.topics], fromBeginning: this.#fromBeginning }, this.#handlers(crashed.resolve));
        starting.catch(() => {});
        if ((await Promise.race([starting.then(() => undefined), this.stopped().then(() => STOP)])) === STOP) break;
        this.log.info("Consuming", { topics: this.topics.map(String).join(" "), group: this.groupId });
        const outcome = await Promise.race([crashed.promise, this.stopped().then(() => STOP)]);
        if (outcome === STOP) break;
        this.log.error("The Kafka consumer gave up; it is created again", { error: outcome, in: this.#sleepOnError });
      } catch (error) {
        if (this.signal.aborted) break;
        this.log.warn("Cannot consume from Kafka yet; trying again", { error, in: this.#sleepOnError });
      } finally {
        await this.#stopConsumer(consumer);
        this.#consumer = undefined;
      }
      await this.sleep(this.#sleepOnError);
    }
  }

  #handlers(crashed: (error: unknown) => void): ConsumerHandlers {
    return {
      onBatch: (batch, control) => this.#onBatch(batch, control),
      onAssigned: (assignment) => {
        // The client reads every partition again from its committed offset: the old lanes are void.
        this.#tracker.reset();
        this.#rebalancing = false;
        this.#rejoinPrepared = false;
        this.#assignment = assignment;
        const paused = [...this.#paused.values()];
        this.#paused.clear();
        if (this.#draining) this.#pause(...assignment);
        else if (paused.length > 0) this.#consumer?.resume(paused);
        this.log.info("Partitions assigned", { group: this.groupId, partitions: assignment.map((tp) => `${tp.topic}:${tp.partition}`).join(" ") });
      },
      onRebalancing: () => {
        // Commit what is settled before the partitions move (the commits are eager: usually nothing is left).
        void this.#flushCommits();
      },
      onCrash: (error, restarting) => {
        this.#tracker.reset();
        this.#rebalancing = false;
        this.#rejoinPrepared = false;
        if (restarting) this.log.warn("The Kafka consumer failed and restarts", { error });
        else crashed(error);
      },
    };
  }

  // ---- batches ------------------------------------------------------------------------------

  async #onBatch(batch: ConsumerBatch, control: BatchControl): Promise<void> {
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += this.#bufferSize) {
      // A fetch holds batches of several partitions, which the client hands over one after the other
      // before it rejoins a rebalancing group: leave them unread (they are fetched again) so that the
      // rebalance does not wait for all of them.
      if (!(await this.#beat(control)) || !(await this.#waitReady(control))) {
        if (this.#rebalancing) await this.#beforeRejoin();
        return;
      }
      const lane = this.#tracker.lane(batch.topic, batch.partition);
      if (!this.#tracker.accepts(lane) || control.isStale() || !control.isRunning() || this.#draining) return;
      const events: (Buffer | null)[] = [];
      const contexts: Context[] = [];
      const end = Math.min(i + this.#bufferSize, messages.length);
      let last: number | undefined;
      for (let k = i; k < end; k++) {
        const m = messages[k]!;
        if (m.offset <= lane.last) continue; // already handed over in this lane
        events.push(m.value);
        contexts.push(this.#context(m, lane));
        last = m.offset;
      }
      if (last === undefined) {
        control.resolve(messages[end - 1]!.offset);
        continue;
      }
      control.resolve(last);
      await this.#hand(events, contexts, control);
    }
  }

  #context(m: KafkaMessage, lane: Lane): Context {
    const context: KafkaContext = {
      kafka_topic: m.topic,
      kafka_partition: m.partition,
      kafka_offset: m.offset,
      kafka_key: m.key,
      kafka_headers: m.headers,
      kafka_timestamp: m.timestamp,
      [KAFKA_SOURCE]: { topic: m.topic, partition: m.partition, offset: m.offset },
      [DELIVERY]: this.#tracker.track(lane, m.offset),
    };
    return context;
  }

  /**
   * The group rebalances: before the member rejoins (and may lose partitions), give what it handed
   * over a moment to settle (a sink waiting for acknowledgements), and commit it, so that less is
   * read again. The commit still carries the current generation, which the coordinator accepts
   * until the rebalance completes. Once per rebalance; bounded.
   */
  async #beforeRejoin(): Promise<void> {
    if (this.#rejoinPrepared) return;
    this.#rejoinPrepared = true;
    const deadline = performance.now() + Math.min(5000, this.#consumerOptions.rebalanceTimeoutMs / 2);
    while (this.#tracker.pending > 0 && performance.now() < deadline && !this.signal.aborted) await delay(10);
    await this.#flushCommits();
  }

  /** One heartbeat (the client sends it only when the interval passed); false when the group rebalances. */
  async #beat(control: BatchControl): Promise<boolean> {
    try {
      await control.heartbeat();
      // Accepted: no rebalance waits for this member (any more). The client sends a heartbeat again
      // after a failed one, so a rebalance still under way keeps failing here until it rejoined.
      this.#rebalancing = false;
      this.#rejoinPrepared = false;
    } catch (error) {
      if (isRebalancing(error)) this.#rebalancing = true;
      else this.log.debug("Heartbeat failed", { error });
    }
    return !this.#rebalancing;
  }

  /** Hands a chunk over with one await, keeping the group membership alive while the pipeline holds it. */
  async #hand(events: (Buffer | null)[], contexts: Context[], control: BatchControl): Promise<void> {
    const beat = setInterval(() => void this.#beat(control), this.#consumerOptions.heartbeatIntervalMs);
    try {
      await this.processBatch(events, contexts);
    } catch (error) {
      // The pipeline refused the batch before taking it (it is stopping): nothing of it is settled.
      for (const context of contexts) context[DELIVERY]?.fail(error);
      if (!isStopSignal(error)) throw error;
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Waits until the pipeline is ready, heart-beating meanwhile. False when the source is stopping or
   * draining, or when the group rebalances: the member then rejoins (and may hand its partitions to
   * a member that can work) instead of holding the group up.
   */
  async #waitReady(control: BatchControl): Promise<boolean> {
    while (!this.pipeline.isReady()) {
      if (this.signal.aborted || this.#draining || !control.isRunning()) return false;
      const tick = delay(this.#consumerOptions.heartbeatIntervalMs, undefined, { ref: false });
      try {
        await Promise.race([this.pipeline.ready(), tick]);
      } catch (error) {
        if (isStopSignal(error)) return false;
        throw error;
      }
      if (!(await this.#beat(control))) return false;
    }
    return !this.signal.aborted && !this.#draining;
  }

  // ---- commits ------------------------------------------------------------------------------

  /** Called for each record whose settlement moved its partition's commit point: allocates only for a partition's first. */
  #commit(lane: Lane, offset: number): void {
    const queued = this.#commits.get(lane.key);
    if (queued !== undefined && queued.lane === lane) {
      if (queued.offset < offset) queued.offset = offset;
    } else {
      this.#commits.set(lane.key, { topic: lane.topic, partition: lane.partition, offset, lane });
    }
    void this.#flushCommits();
  }

  /** Sends the queued commits, one request at a time; resolves when none is queued or in flight. */
  #flushCommits(): Promise<void> {
    this.#committing ??= this.#commitLoop().finally(() => {
      this.#committing = undefined;
    });
    return this.#committing;
  }

  async #commitLoop(): Promise<void> {
    while (this.#commits.size > 0) {
      const consumer = this.#consumer;
      const batch = [...this.#commits.values()];
      this.#commits.clear();
      if (consumer === undefined) return;
      try {
        await consumer.commit(batch.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
        for (const c of batch) this.committed.set(tpKey(c), c.offset);
      } catch (error) {
        // Commits are idempotent; a lane dropped meanwhile (rebalance, restart) is read again anyway.
        const retry = batch.filter((c) => c.lane.state !== "dropped" && !this.#commits.has(tpKey(c)));
        const rebalanced = isRebalancing(error);
        const retriable = error instanceof KafkaClientError && error.retriable && !rebalanced;
        if (rebalanced) this.log.info("Offset commit refused after a rebalance: those records are read again", { error, partitions: batch.length });
        else this.log.warn("Offset commit failed", { error, partitions: batch.length, retrying: retriable && retry.length > 0 });
        if (!retriable || retry.length === 0 || this.signal.aborted) continue;
        for (const c of retry) this.#commits.set(tpKey(c), c);
        await delay(COMMIT_RETRY_MS, undefined, { ref: false });
      }
    }
  }

  // ---- failed deliveries --------------------------------------------------------------------

  #pause(...partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.set(tpKey(tp), { topic: tp.topic, partition: tp.partition });
    this.#consumer?.pause(partitions.map(({ topic, partition }) => ({ topic, partition })));
  }

  #rewind(tp: TopicPartition, offset: number): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    this.log.warn("Reading the partition again after a failed delivery", { topic: tp.topic, partition: tp.partition, offset });
    consumer.seek({ topic: tp.topic, partition: tp.partition }, offset);
    this.#paused.delete(tpKey(tp));
    consumer.resume([{ topic: tp.topic, partition: tp.partition }]);
  }

  // ---- stopping -----------------------------------------------------------------------------

  /**
   * The pipeline begins to stop (it still processes): stop fetching, wait (at most `drain_timeout`)
   * until what was handed over settled — a buffering sink keeps sending meanwhile — and commit it, so
   * an orderly stop leaves as little as possible to read again.
   */
  override async drain(): Promise<void> {
    this.#draining = true;
    this.#tracker.draining = true;
    if (this.#consumer === undefined) return;
    this.#pause(...this.#assignment);
    const deadline = performance.now() + this.#drainTimeout * 1000;
    while (this.#tracker.pending > 0 && performance.now() < deadline) await delay(20);
    if (this.#tracker.pending > 0) this.log.warn("Stopping with events still in the pipeline: they will be read again", { events: this.#tracker.pending });
    await this.#flushCommits();
  }

  override async stop(timeoutSeconds?: number): Promise<boolean> {
    const stopped = await super.stop(timeoutSeconds);
    this.#draining = false;
    this.#tracker.draining = false;
    return stopped;
  }

  async #stopConsumer(consumer: KafkaConsumerClient): Promise<void> {
    await this.#flushCommits();
    try {
      await consumer.stop();
    } catch (error) {
      this.log.warn("The Kafka consumer did not stop cleanly", { error });
    }
    this.#tracker.reset();
    this.#assignment = [];
    this.#paused.clear();
  }

  override restGet(): Record<string, unknown> {
    return {
      ...super.restGet(),
      Topics: this.topics.map(String),
      GroupId: this.groupId,
      Assignment: this.#assignment.map((tp) => `${tp.topic}:${tp.partition}`),
      Stats: { ...this.#tracker.stats },
    };
  }
}

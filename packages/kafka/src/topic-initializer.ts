import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { collectDefaults, Config, ConfigError, type ComponentOptions, type Connection, type ConfigValues, type Pipeline, type PumpApplication } from "@pump/core";
import type { TopicSpec } from "./client.js";
import { KafkaConnection, type TopicsPreparer } from "./connection.js";
import { KafkaClientError, KafkaTopicError } from "./errors.js";
import { optBool, optCount, splitList } from "./options.js";
import { KafkaSink } from "./sink.js";
import { KafkaSource } from "./source.js";

/** Topic-level options a source's or sink's section may carry for the topic it names (as in BSPump). */
export const TOPIC_CONFIG_OPTIONS: ReadonlySet<string> = new Set([
  "cleanup.policy",
  "compression.type",
  "delete.retention.ms",
  "file.delete.delay.ms",
  "flush.messages",
  "flush.ms",
  "follower.replication.throttled.replicas",
  "index.interval.bytes",
  "leader.replication.throttled.replicas",
  "max.compaction.lag.ms",
  "max.message.bytes",
  "message.downconversion.enable",
  "message.format.version",
  "message.timestamp.difference.max.ms",
  "message.timestamp.type",
  "min.cleanable.dirty.ratio",
  "min.compaction.lag.ms",
  "min.insync.replicas",
  "preallocate",
  "retention.bytes",
  "retention.ms",
  "segment.bytes",
  "segment.index.bytes",
  "segment.jitter.ms",
  "segment.ms",
  "unclean.leader.election.enable",
]);

/** A topic as a topics file (JSON) declares it; BSPump's `name` and `topic_configs` are accepted too. */
export interface TopicDeclaration {
  topic?: string;
  name?: string;
  num_partitions?: number;
  replication_factor?: number;
  config?: Record<string, string | number | boolean>;
  topic_configs?: Record<string, string | number | boolean>;
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * Creates the topics a pump needs when they are missing (existing topics are left as they are).
 * Section `[<id>]` (default `[KafkaTopicInitializer]`). Topics come from:
 * - `topics`: names, each optionally `name:partitions[:replication]`;
 * - `topics_file`: a JSON list of `{ topic, num_partitions, replication_factor, config }`;
 * - `includeTopics(...)`: a declaration, a file, a Kafka source or sink, or a pipeline;
 * - with `scan_pipelines` (default on), every `KafkaSource` and `KafkaSink` on the same connection in
 *   the service's pipelines, with `num_partitions`, `replication_factor` and topic-level options
 *   (`retention.ms`, `cleanup.policy`...) read from their sections.
 *
 * It registers itself on the connection: `connect()` runs it, retrying while the broker is down,
 * and the connection's sources and sinks wait for it. `initializeTopics()` runs it once, by hand.
 */
export class KafkaTopicInitializer implements TopicsPreparer {
  static ConfigDefaults: ConfigValues = {
    topics: "",
    topics_file: "",
    num_partitions_default: 1,
    replication_factor_default: 1,
    scan_pipelines: true,
  };

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly connection: KafkaConnection;
  /** Declared topics by name (later declarations of a name replace earlier ones). */
  readonly required = new Map<string, TopicSpec>();
  readonly #numPartitions: number;
  readonly #replicationFactor: number;

  constructor(app: PumpApplication, connection: string | KafkaConnection, options: ComponentOptions = {}) {
    this.app = app;
    this.id = options.id ?? new.target.name;
    this.config = Config.forClass(new.target, this.id, options.config, app.config);
    const located: Connection = app.pumpService.locateConnection<Connection>(connection);
    if (!(located instanceof KafkaConnection)) throw new TypeError(`KafkaTopicInitializer '${this.id}': connection '${located.id}' is not a KafkaConnection`);
    this.connection = located;
    this.#numPartitions = optCount(this.config, 1, "num_partitions_default");
    this.#replicationFactor = this.config.getInt("replication_factor_default");
    for (const item of splitList(this.config.get("topics"))) {
      const [topic, partitions, replication] = item.split(":");
      const bad = (what: string): ConfigError =>
        new ConfigError(`'${item}': ${what} must be a whole number (write name[:partitions[:replication]])`, { section: this.config.section, key: "topics" }, "PUMP_CONFIG_VALUE");
      const numPartitions = partitions === undefined ? this.#numPartitions : Number(partitions);
      const replicationFactor = replication === undefined ? this.#replicationFactor : Number(replication);
      if (!Number.isInteger(numPartitions) || numPartitions < 1) throw bad("partitions");
      if (!Number.isInteger(replicationFactor)) throw bad("replication");
      this.required.set(topic!, { topic: topic!, numPartitions, replicationFactor, config: {} });
    }
    const file = this.config.get("topics_file").trim();
    if (file !== "") this.includeTopics({ configFile: file });
    located.addTopicsPreparer(this);
  }

  /** Adds topics: declared ones, a JSON file of them, those of a Kafka source or sink, or of a pipeline's. */
  includeTopics(what: { topicConfig?: TopicDeclaration | TopicDeclaration[]; configFile?: string; kafkaComponent?: KafkaSource | KafkaSink; pipeline?: Pipeline }): this {
    if (what.topicConfig !== undefined) for (const d of [what.topicConfig].flat()) this.#declare(d, "topicConfig");
    if (what.configFile !== undefined) this.#includeFile(what.configFile);
    if (what.kafkaComponent !== undefined) this.#includeComponent(what.kafkaComponent);
    if (what.pipeline !== undefined) this.#includePipeline(what.pipeline);
    return this;
  }

  #declare(d: TopicDeclaration, where: string): void {
    const topic = d.topic ?? d.name;
    if (typeof topic !== "string" || topic === "") throw new ConfigError(`${where}: a topic declaration needs 'topic'`, { section: this.config.section });
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.config ?? d.topic_configs ?? {})) config[k] = String(v);
    this.required.set(topic, {
      topic,
      numPartitions: d.num_partitions ?? this.#numPartitions,
      replicationFactor: d.replication_factor ?? this.#replicationFactor,
      config,
    });
  }

  #includeFile(path: string): void {
    if (!path.toLowerCase().endsWith(".json")) {
      throw new ConfigError(`'${path}': topics files are JSON (a list of {topic, num_partitions, replication_factor, config})`, { section: this.config.section, key: "topics_file" }, "PUMP_CONFIG_VALUE");
    }
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new ConfigError(`'${path}': ${(error as Error).message}`, { section: this.config.section, key: "topics_file" }, "PUMP_CONFIG_FILE", { cause: error });
    }
    if (!Array.isArray(data)) throw new ConfigError(`'${path}': expected a JSON list of topics`, { section: this.config.section, key: "topics_file" }, "PUMP_CONFIG_VALUE");
    for (const d of data) this.#declare(d as TopicDeclaration, path);
  }

  #includeComponent(component: KafkaSource | KafkaSink): void {
    const c = component.config;
    const names = component instanceof KafkaSource ? component.topics.filter((t): t is string => typeof t === "string") : [component.topic];
    const own = collectDefaults(component.constructor as typeof KafkaSink);
    const config: Record<string, string> = {};
    for (const key of c.keys()) {
      if (TOPIC_CONFIG_OPTIONS.has(key) && !(key in own)) config[key] = c.get(key);
    }
    const numPartitions = c.has("num_partitions") ? optCount(c, 1, "num_partitions") : this.#numPartitions;
    const replicationFactor = c.has("replication_factor") ? c.getInt("replication_factor") : this.#replicationFactor;
    for (const topic of names) {
      if (topic === "" || topic === "unconfigured") continue;
      this.required.set(topic, { topic, numPartitions, replicationFactor, config: { ...config } });
    }
  }

  #includePipeline(pipeline: Pipeline): void {
    for (const source of pipeline.sources) {
      if (source instanceof KafkaSource && source.connection === this.connection) this.#includeComponent(source);
    }
    for (const depth of pipeline.iterProcessors()) {
      for (const processor of depth) {
        if (processor instanceof KafkaSink && processor.connection === this.connection) this.#includeComponent(processor);
      }
    }
  }

  /** Lists the topics and creates the missing ones, once; resolves the names it created. */
  async initializeTopics(): Promise<string[]> {
    if (optBool(this.config, "scan_pipelines")) {
      for (const pipeline of this.app.pumpService.pipelines.values()) this.#includePipeline(pipeline);
    }
    if (this.required.size === 0) return [];
    let admin;
    try {
      admin = await this.connection.createAdmin();
    } catch (error) {
      throw this.#error("cannot reach Kafka to create topics", error);
    }
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [...this.required.values()].filter((t) => !existing.has(t.topic));
      if (missing.length === 0) {
        this.#logger().info("Kafka topics present", { topics: [...this.required.keys()].join(" ") });
        return [];
      }
      await admin.createTopics(missing);
      this.#logger().notice("Kafka topics created", { topics: missing.map((t) => t.topic).join(" ") });
      return missing.map((t) => t.topic);
    } catch (error) {
      throw this.#error("cannot create topics", error);
    } finally {
      await admin.disconnect();
    }
  }

  /** What the connection runs on `connect()`: `initializeTopics()`, retried while the failure is transient. */
  async prepareTopics(signal: AbortSignal): Promise<void> {
    let wait = RETRY_FIRST_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.initializeTopics();
        return;
      } catch (error) {
        const retriable = error instanceof KafkaTopicError && error.cause instanceof KafkaClientError && error.cause.retriable;
        if (!retriable || signal.aborted) throw error;
        if (attempt === 1) this.#logger().warn("Kafka topics cannot be created yet; retrying", { error });
        try {
          await delay(wait, undefined, { signal });
        } catch {
          throw error;
        }
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  #error(what: string, error: unknown): KafkaTopicError {
    return new KafkaTopicError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  #logger() {
    return this.connection.log.child({ initializer: this.id });
  }
}

import { readFileSync } from "node:fs";
import { Config, ConfigError, Connection, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import type {
  Compression,
  ConsumerOptions,
  KafkaAdminClient,
  KafkaClient,
  KafkaClientSettings,
  KafkaConsumerClient,
  KafkaProducerClient,
  ProducerOptions,
} from "./client.js";
import { KafkajsClient } from "./kafkajs-client.js";
import { keyOf, optBool, optChoice, optCount, splitList } from "./options.js";

const PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
const MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"] as const;
export const COMPRESSIONS: readonly Compression[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/** Something that creates topics before sources subscribe and sinks send (a `KafkaTopicInitializer`). */
export interface TopicsPreparer {
  readonly id: string;
  /** Creates what is missing; retries transient failures until `signal` aborts. */
  prepareTopics(signal: AbortSignal): Promise<void>;
}

/**
 * A link to an Apache Kafka cluster, shared by the sources, sinks and topic initializers that locate
 * it by id. Section `[connection:<Id>]`; as in BSPump, when that section has no
 * `bootstrap_servers`, every key is read from the `[kafka]` section instead.
 *
 * It holds the client (kafkajs by default): sources and sinks only see the client-neutral interfaces
 * of `client.ts`, so overriding `createClient()` swaps the library for all of them.
 *
 * `connect()` does not need the broker: a pump whose broker is down at start waits in its sources
 * and sinks, which retry, and goes on when the broker is up.
 */
export class KafkaConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    bootstrap_servers: "",
    client_id: "bspump",
    security_protocol: "PLAINTEXT",
    sasl_mechanism: "PLAIN",
    sasl_username: "",
    sasl_password: "",
    ssl_ca_location: "",
    ssl_certificate_location: "",
    ssl_key_location: "",
    ssl_key_password: "",
    enable_ssl_certificate_verification: true,
    ssl_endpoint_identification_hostname: "",
    compression_type: "none",
    socket_connection_setup_timeout_ms: 10000,
    request_timeout_ms: 30000,
    retries: 5,
    retry_backoff_ms: 300,
    retry_backoff_max_ms: 30000,
  };

  /** Where each key is read from: this connection's section, or `[kafka]` (BSPump's fallback). */
  readonly options: Config;
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** The default compression of the sinks that use this connection (`compression_type`). */
  readonly compression: Compression;
  readonly #settings: KafkaClientSettings;
  #client: KafkaClient | undefined;
  readonly #preparers = new Set<TopicsPreparer>();
  #prepared: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const given = (typeof id === "object" ? id : options).config;
    // Which keys the user set for this connection (ConfigDefaults aside)?
    const own = new Config(this.config.section, { given, file: app.config });
    const fromKafkaSection = !own.has("bootstrap_servers") && !own.has("bootstrap.servers") && app.config.hasSection("kafka");
    this.options = fromKafkaSection
      ? new Config("kafka", { defaults: (this.constructor as typeof KafkaConnection).ConfigDefaults, given, file: app.config })
      : this.config;
    const c = this.options;

    this.brokers = splitList(c.get(keyOf(c, "bootstrap_servers")));
    if (this.brokers.length === 0) {
      throw new ConfigError(
        "required key is not set: give the brokers as host:port[,host:port...] (or set it in the [kafka] section)",
        { file: app.config.files[0], section: this.config.section, key: "bootstrap_servers" },
        "PUMP_CONFIG_MISSING",
      );
    }
    this.clientId = c.get(keyOf(c, "client_id"));
    this.compression = optChoice(c, COMPRESSIONS, "compression_type", "compression_codec");

    const protocol = optChoice(c, PROTOCOLS, "security_protocol");
    const useSsl = protocol === "SSL" || protocol === "SASL_SSL";
    const useSasl = protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL";
    this.#settings = {
      brokers: [...this.brokers],
      clientId: this.clientId,
      ssl: useSsl ? this.#ssl(c) : false,
      sasl: useSasl ? this.#sasl(c) : undefined,
      connectionTimeoutMs: optCount(c, 1, "socket_connection_setup_timeout_ms", "connection_timeout_ms"),
      requestTimeoutMs: optCount(c, 1, "request_timeout_ms", "socket_timeout_ms"),
      retries: optCount(c, 0, "retries"),
      retryInitialMs: optCount(c, 1, "retry_backoff_ms"),
      retryMaxMs: optCount(c, 1, "retry_backoff_max_ms"),
      log: (level, message, fields) => this.log[level](message, fields),
    };
  }

  #file(c: Config, key: string): Buffer | undefined {
    const name = keyOf(c, key);
    const path = c.get(name).trim();
    if (path === "") return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`cannot read '${path}': ${(error as Error).message}`, { section: c.section, key: name }, "PUMP_CONFIG_VALUE", { cause: error });
    }
  }

  #ssl(c: Config): KafkaClientSettings["ssl"] {
    const ssl: Exclude<KafkaClientSettings["ssl"], false> = { rejectUnauthorized: optBool(c, "enable_ssl_certificate_verification") };
    const ca = this.#file(c, "ssl_ca_location");
    const cert = this.#file(c, "ssl_certificate_location");
    const key = this.#file(c, "ssl_key_location");
    const passphrase = c.get(keyOf(c, "ssl_key_password"));
    const servername = c.get(keyOf(c, "ssl_endpoint_identification_hostname")).trim();
    if (ca !== undefined) ssl.ca = ca;
    if (cert !== undefined) ssl.cert = cert;
    if (key !== undefined) ssl.key = key;
    if (passphrase !== "") ssl.passphrase = passphrase;
    if (servername !== "") ssl.servername = servername;
    return ssl;
  }

  #sasl(c: Config): KafkaClientSettings["sasl"] {
    const mechanism = optChoice(c, MECHANISMS, "sasl_mechanism", "sasl_mechanisms");
    if (mechanism === "GSSAPI" || mechanism === "OAUTHBEARER") {
      throw new ConfigError(`SASL mechanism ${mechanism} is not supported (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)`, {
        section: c.section,
        key: keyOf(c, "sasl_mechanism", "sasl_mechanisms"),
      }, "PUMP_CONFIG_VALUE");
    }
    const userKey = keyOf(c, "sasl_username", "sasl_plain_username");
    const username = c.get(userKey);
    const password = c.get(keyOf(c, "sasl_password", "sasl_plain_password"));
    if (username === "") {
      throw new ConfigError(`SASL ${mechanism} needs a user name`, { section: c.section, key: userKey }, "PUMP_CONFIG_MISSING");
    }
    const lowered = mechanism.toLowerCase() as "plain" | "scram-sha-256" | "scram-sha-512";
    return { mechanism: lowered, username, password };
  }

  /** Builds the client; override to use another Kafka library (implement the interfaces of `client.ts`). */
  protected createClient(settings: KafkaClientSettings): KafkaClient {
    return new KafkajsClient(settings);
  }

  /** The client (created on first use; no network until a consumer, producer or admin client is used). */
  override acquire(): KafkaClient {
    this.#client ??= this.createClient(this.#settings);
    return this.#client;
  }

  createConsumer(options: ConsumerOptions): KafkaConsumerClient {
    return this.acquire().consumer(options);
  }

  createProducer(options: ProducerOptions): KafkaProducerClient {
    return this.acquire().producer(options);
  }

  /** A connected admin client; disconnect it when done. */
  createAdmin(): Promise<KafkaAdminClient> {
    return this.acquire().admin();
  }

  /** Registers a topic initializer: it runs on `connect()`, before sources subscribe and sinks send. */
  addTopicsPreparer(preparer: TopicsPreparer): void {
    this.#preparers.add(preparer);
  }

  /**
   * Resolves when the topic initializers registered on this connection have run (created the topics,
   * or given up and logged why). Sources and sinks await it before their first request.
   */
  topicsReady(): Promise<void> {
    return this.#prepared ?? Promise.resolve();
  }

  /** Needs no broker: it starts the topic initializers in the background and returns. */
  override async connect(): Promise<void> {
    const client = this.acquire();
    this.log.info("Kafka connection", { brokers: this.brokers.join(","), client: client.description, clientId: this.clientId });
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    const signal = this.#abort.signal;
    const preparers = [...this.#preparers];
    if (preparers.length === 0) return;
    this.#prepared = Promise.all(
      preparers.map(async (preparer) => {
        try {
          await preparer.prepareTopics(signal);
        } catch (error) {
          if (!signal.aborted) this.log.error("Topic initialization failed", { initializer: preparer.id, error });
        }
      }),
    ).then(() => undefined);
  }

  override async disconnect(): Promise<void> {
    this.#abort.abort();
    await this.#prepared;
    this.#prepared = undefined;
  }

  /** Aborted while the connection is closing: for the retry loops of topic initializers. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Brokers: [...this.brokers], ClientId: this.clientId };
  }
}

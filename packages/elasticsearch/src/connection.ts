import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Client, type ClientOptions } from "@elastic/elasticsearch";
import { ConfigError, Connection, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import { BulkQueue, type BulkResponse, type BulkSettings } from "./bulk.js";
import { requestError } from "./classify.js";
import { parseNodeUrls, redactUrl } from "./urls.js";

/** The keys of BSPump's (ASAB's) TLS settings that this connection reads. */
const TLS_KEYS = ["cafile", "capath", "cadata", "cert", "key", "key_password", "verify_mode", "check_hostname", "ciphers", "ca_fingerprint"] as const;

/**
 * Answers of `_bulk` carry only what settling each item needs: its action, status and error. `_id`
 * and `_index` (≈ 60 of the ≈ 90 bytes an item answers with, parsed for every document) are known
 * from the item and its bulk.
 */
const BULK_FILTER_PATH = "errors,items.*.status,items.*.error";

/**
 * A link to an Elasticsearch cluster (BSPump's ElasticSearchConnection), config section
 * `[connection:<Id>]`, shared by the sinks, sources and lookups that name it.
 *
 * It holds one `@elastic/elasticsearch` client (round robin over the nodes of `url`, dead nodes set
 * aside and tried again) and the sinks' output side: bulks per index bounded by `bulk_out_max_size`
 * bytes, sent when full, idle for `max_bulk_age` seconds or `bulk_lifespan` seconds old, through an
 * output queue of `output_queue_max_size` bulks that throttles the sinks' pipelines when full, by
 * `loader_per_url` concurrent requests per node. Whole requests that fail because a node is down,
 * restarting or overloaded are sent again with exponential backoff (`retry_backoff` up to
 * `retry_backoff_max` seconds), for ever unless `retry_timeout` is set.
 *
 * Credentials come from `username`/`password` or `api_key` (not both), else from the
 * `[elasticsearch]` section, as in BSPump; `url` too (`[elasticsearch] url_hot` or `url`). TLS:
 * `cafile`, `capath`, `cadata`, `cert`, `key`, `key_password`, `verify_mode` (CERT_NONE turns
 * verification off), `check_hostname`, `ciphers`, `ca_fingerprint`; from this section if it sets any,
 * else from `[elasticsearch]`.
 */
export class ElasticSearchConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "",
    username: "",
    password: "",
    api_key: "",
    loader_per_url: 4,
    output_queue_max_size: 10,
    bulk_out_max_size: 12 * 1024 * 1024,
    timeout: 300,
    fail_log_max_size: 20,
    precise_error_handling: false,
    log_failed_documents: true,
    bulk_lifespan: 30,
    max_bulk_age: 2,
    retry_backoff: 0.5,
    retry_backoff_max: 30,
    retry_timeout: 0,
  };

  /** The node URLs, as given (passwords in them included). */
  readonly nodes: readonly string[];
  /** The sinks' bulks and output queue. */
  readonly bulks: BulkQueue;
  /** Request timeout, milliseconds. */
  readonly timeoutMs: number;
  readonly #clientOptions: ClientOptions;
  #client: Client | undefined;

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const c = this.config;
    const section = c.section;
    const fallback = (key: string): string => {
      const own = c.get(key).trim();
      return own !== "" ? own : (app.config.get("elasticsearch", key) ?? "").trim();
    };

    let urls = c.get("url").trim();
    let urlKey = "url";
    if (urls === "") {
      urls = (app.config.get("elasticsearch", "url_hot") ?? app.config.get("elasticsearch", "url") ?? "").trim();
      urlKey = "url (or [elasticsearch] url_hot / url)";
    }
    try {
      this.nodes = parseNodeUrls(urls);
    } catch (error) {
      throw new ConfigError((error as Error).message, { section, key: "url" }, "PUMP_CONFIG_VALUE", { cause: error });
    }
    if (this.nodes.length === 0) throw new ConfigError("no Elasticsearch URL given", { section, key: urlKey }, "PUMP_CONFIG_MISSING");

    const username = fallback("username");
    const password = fallback("password");
    const apiKey = fallback("api_key");
    if (username !== "" && apiKey !== "") {
      throw new ConfigError("set either username (and password) or api_key, not both", { section, key: "api_key" }, "PUMP_CONFIG_VALUE");
    }

    const positive = (key: string, min: number): number => {
      const value = c.getInt(key);
      if (value < min) throw new ConfigError(`expected an integer of at least ${min}, got ${value}`, { section, key }, "PUMP_CONFIG_VALUE");
      return value;
    };
    const seconds = (key: string, min: number): number => {
      const value = c.getSeconds(key);
      if (!(value >= min)) throw new ConfigError(`expected at least ${min} seconds, got ${value}`, { section, key }, "PUMP_CONFIG_VALUE");
      return value;
    };
    const timeout = seconds("timeout", 0.001);
    this.timeoutMs = Math.round(timeout * 1000);
    const settings: BulkSettings = {
      maxBulkBytes: positive("bulk_out_max_size", 1),
      maxQueue: positive("output_queue_max_size", 1),
      loaders: positive("loader_per_url", 1) * this.nodes.length,
      maxBulkAge: seconds("max_bulk_age", 0),
      bulkLifespan: seconds("bulk_lifespan", 0),
      retryBackoff: seconds("retry_backoff", 0.001),
      retryBackoffMax: 0,
      retryTimeout: seconds("retry_timeout", 0),
      failLogMaxSize: positive("fail_log_max_size", 0),
      logFailedDocuments: c.getBool("log_failed_documents"),
    };
    settings.retryBackoffMax = Math.max(seconds("retry_backoff_max", 0.001), settings.retryBackoff);
    c.getBool("precise_error_handling"); // BSPump's key: every item is matched to its answer anyway

    this.#clientOptions = {
      nodes: [...this.nodes],
      requestTimeout: this.timeoutMs,
      name: `pump:${this.id}`,
      ...(username !== "" ? { auth: { username, password } } : apiKey !== "" ? { auth: { apiKey } } : {}),
      ...this.#tls(),
    };
    this.bulks = new BulkQueue(settings, (index, body, signal) => this.#sendBulk(index, body, signal), this.log);
  }

  /** The client (created on first use, again after `disconnect()`). */
  override acquire(): Client {
    this.#client ??= new Client(this.#clientOptions);
    return this.#client;
  }

  /**
   * Creates the client and asks the cluster's health, without waiting for it: a cluster that is
   * down now is logged, and the sinks wait for it (their pipelines throttled once the queue fills).
   */
  override async connect(): Promise<void> {
    const client = this.acquire();
    client.cluster.health({ timeout: "5s" }, { maxRetries: 0, requestTimeout: 10_000 }).then(
      (health) => this.log.info("Elasticsearch reachable", { nodes: this.nodes.map(redactUrl), cluster: health.cluster_name, status: health.status }),
      (error: unknown) => this.log.warn("Elasticsearch is not reachable yet; sinks will wait for it", { nodes: this.nodes.map(redactUrl), error: requestError(error, "Cluster health").message }),
    );
  }

  /** Gives up whatever the sinks still hold (they flushed when their pipelines stopped), then closes the client. */
  override async disconnect(): Promise<void> {
    this.bulks.close();
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  /**
   * Runs a request with the client; a failure becomes an ElasticSearchRequestError that says what
   * was asked (`what`) and whether it may succeed later (`retryable`).
   */
  async request<T>(what: string, call: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.acquire());
    } catch (error) {
      throw requestError(error, what);
    }
  }

  override restGet(): Record<string, unknown> {
    const b = this.bulks;
    return { ...super.restGet(), Nodes: this.nodes.map(redactUrl), OutputQueue: b.queued, InFlight: b.active, Bytes: b.bytes, Paused: b.paused, Stats: { ...b.stats } };
  }

  async #sendBulk(index: string, body: string, signal: AbortSignal): Promise<BulkResponse> {
    return (await this.acquire().transport.request(
      { method: "POST", path: `/${encodeURIComponent(index)}/_bulk`, querystring: { filter_path: BULK_FILTER_PATH }, bulkBody: body },
      { maxRetries: 0, signal, requestTimeout: this.timeoutMs },
    )) as BulkResponse;
  }

  /** TLS options from this section when it sets any TLS key, else from `[elasticsearch]` (as BSPump does). */
  #tls(): Pick<ClientOptions, "tls" | "caFingerprint"> {
    const c = this.config;
    const own = TLS_KEYS.some((key) => c.has(key) && c.get(key).trim() !== "");
    const section = own ? c.section : "elasticsearch";
    const read = (key: string): string => (own ? (c.has(key) ? c.get(key) : "") : (this.app.config.get("elasticsearch", key) ?? "")).trim();
    const where = (key: string) => ({ section, key });
    const file = (key: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (error) {
        throw new ConfigError(`cannot read '${path}': ${(error as Error).message}`, where(key), "PUMP_CONFIG_VALUE", { cause: error });
      }
    };
    const tls: TlsOptions = {};
    const ca: (string | Buffer)[] = [];
    const cafile = read("cafile");
    if (cafile !== "") ca.push(file("cafile", cafile));
    const capath = read("capath");
    if (capath !== "") {
      let names: string[];
      try {
        names = readdirSync(capath);
      } catch (error) {
        throw new ConfigError(`cannot list '${capath}': ${(error as Error).message}`, where("capath"), "PUMP_CONFIG_VALUE", { cause: error });
      }
      for (const name of names.toSorted()) {
        const path = join(capath, name);
        if (/\.(pem|crt|cer)$/i.test(name) && statSync(path).isFile()) ca.push(file("capath", path));
      }
    }
    const cadata = read("cadata");
    if (cadata !== "") ca.push(cadata);
    if (ca.length > 0) tls.ca = ca;
    const cert = read("cert");
    if (cert !== "") tls.cert = file("cert", cert);
    const key = read("key");
    if (key !== "") tls.key = file("key", key);
    const passphrase = read("key_password");
    if (passphrase !== "") tls.passphrase = passphrase;
    const ciphers = read("ciphers");
    if (ciphers !== "") tls.ciphers = ciphers;
    const verify = read("verify_mode").toUpperCase();
    if (verify !== "" && !["CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED"].includes(verify)) {
      throw new ConfigError(`expected CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED, got '${verify}'`, where("verify_mode"), "PUMP_CONFIG_VALUE");
    }
    if (verify === "CERT_NONE") tls.rejectUnauthorized = false;
    const checkHostname = read("check_hostname");
    if (checkHostname !== "" && !/^(1|true|yes|on)$/i.test(checkHostname)) tls.checkServerIdentity = () => undefined;
    const fingerprint = read("ca_fingerprint");
    return { ...(Object.keys(tls).length > 0 ? { tls } : {}), ...(fingerprint !== "" ? { caFingerprint: fingerprint } : {}) };
  }
}

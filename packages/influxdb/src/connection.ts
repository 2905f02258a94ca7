import { ConfigError, Connection, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import { HttpError, InfluxDB, RequestTimedOutError, type Transport } from "@influxdata/influxdb-client";
import { InfluxDBWriteError } from "./errors.js";

export type Precision = "ns" | "us" | "ms" | "s";
const PRECISIONS: readonly Precision[] = ["ns", "us", "ms", "s"];

/**
 * A link to an InfluxDB server, written to through the v2 write API (`/api/v2/write`), which InfluxDB 2.x
 * and 3.x serve and 1.8+ serves too (bucket `database/retention-policy`, org ignored). Section
 * `[connection:<Id>]` with BSPump's keys (`url`, `db`, `precision`, `timeout`,
 * `response_codes_to_retry`) and the v2 ones (`bucket`, `org`, `token`).
 *
 * It only sends: `write(body)` is one HTTP request that resolves when the server stored the points
 * (204) and otherwise rejects with an `InfluxDBWriteError` saying whether trying again may help.
 * Batching, retries and confirmation are the sink's.
 */
export class InfluxDBConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "http://localhost:8086/",
    db: "mydb",
    bucket: "",
    org: "",
    token: "",
    precision: "ns",
    timeout: 30,
    response_codes_to_retry: "404,429,500,502,503,504",
    gzip_threshold: 1000000,
  };

  readonly url: string;
  /** Where points go: `bucket`, else `db` (with its default retention policy). */
  readonly bucket: string;
  readonly org: string;
  readonly precision: Precision;
  /** HTTP statuses after which a write is tried again. */
  readonly retryStatuses: ReadonlySet<number>;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #gzipThreshold: number;
  #client: InfluxDB | undefined;

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const c = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: c.section, key });
    this.url = c.get("url").trim().replace(/\/+$/, "");
    try {
      const parsed = new URL(this.url);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`${parsed.protocol} is not http: or https:`);
    } catch (error) {
      throw new ConfigError(`not an http(s) URL: '${this.url}'`, at("url"), "PUMP_CONFIG_VALUE", { cause: error });
    }
    this.bucket = c.get("bucket").trim() || c.get("db").trim();
    if (this.bucket === "") throw new ConfigError("no bucket (or db) to write to", at("bucket"), "PUMP_CONFIG_MISSING");
    this.org = c.get("org").trim();
    this.#token = c.get("token");
    const precision = c.get("precision").trim().toLowerCase();
    if (!(PRECISIONS as readonly string[]).includes(precision)) throw new ConfigError(`must be ns, us, ms or s, got '${precision}'`, at("precision"), "PUMP_CONFIG_VALUE");
    this.precision = precision as Precision;
    this.#timeoutMs = c.getSeconds("timeout") * 1000;
    if (!(this.#timeoutMs > 0)) throw new ConfigError(`must be more than 0, got ${c.get("timeout")}`, at("timeout"), "PUMP_CONFIG_VALUE");
    this.retryStatuses = new Set((c.get("response_codes_to_retry").match(/\d+/g) ?? []).map(Number));
    this.#gzipThreshold = c.getInt("gzip_threshold");
  }

  /** The client of `@influxdata/influxdb-client` (created on first use; no network until used). */
  override acquire(): InfluxDB {
    this.#client ??= new InfluxDB({ url: this.url, token: this.#token === "" ? undefined : this.#token, timeout: this.#timeoutMs });
    return this.#client;
  }

  override async connect(): Promise<void> {
    this.acquire();
    this.log.info("InfluxDB connection", { url: this.url, bucket: this.bucket, precision: this.precision });
  }

  /** The path and query of a write (`/api/v2/write?org=&bucket=&precision=`). */
  get writePath(): string {
    return `/api/v2/write?org=${encodeURIComponent(this.org)}&bucket=${encodeURIComponent(this.bucket)}&precision=${this.precision}`;
  }

  /** Sends lines of line protocol (joined with newlines) in one request; resolves once the server stored them. */
  async write(body: string, signal?: AbortSignal): Promise<void> {
    const transport: Transport = this.acquire().transport;
    try {
      await transport.request(this.writePath, body, {
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8" },
        gzipThreshold: this.#gzipThreshold,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      throw this.#classify(error);
    }
  }

  #classify(error: unknown): InfluxDBWriteError {
    if (error instanceof HttpError) {
      let reason = error.body ?? error.statusMessage ?? "";
      try {
        const parsed = JSON.parse(reason) as { error?: unknown; message?: unknown };
        reason = String(parsed.error ?? parsed.message ?? reason);
      } catch {
        // not JSON: the body as it is
      }
      const retryAfter = error.retryAfter();
      return new InfluxDBWriteError(error.statusCode, reason || `HTTP ${error.statusCode}`, this.retryStatuses.has(error.statusCode), retryAfter > 0 ? retryAfter : undefined, {
        cause: error,
      });
    }
    const reason = error instanceof RequestTimedOutError ? "request timed out" : ((error as Error)?.message ?? String(error));
    // No answer at all (refused, reset, timed out, DNS): the server may be back soon.
    return new InfluxDBWriteError(undefined, reason, true, undefined, { cause: error });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url, Bucket: this.bucket, Org: this.org, Precision: this.precision };
  }
}

import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, Connection, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import mysql, { type Pool, type PoolConnection, type PoolOptions } from "mysql2/promise";

/**
 * MySQL error numbers after which trying again may work (BSPump's `RetryErrors`): the server going
 * away or busy, a deadlock, a lock wait timeout.
 */
export const RETRY_ERRNOS: ReadonlySet<number> = new Set([1040, 1047, 1053, 1077, 1078, 1079, 1080, 1152, 1205, 1213, 1223, 2003, 2006, 2012, 2013]);
/** Client-side codes of the same kind: the socket could not be opened or was lost. */
export const RETRY_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
]);

/** Whether an error of the server or of the link to it is worth trying again (BSPump's RetryErrors plus the socket errors). */
export function isTransient(error: unknown): boolean {
  const e = error as { errno?: unknown; code?: unknown } | null | undefined;
  if (typeof e?.code === "string" && RETRY_CODES.has(e.code)) return true;
  return typeof e?.errno === "number" && RETRY_ERRNOS.has(e.errno) && typeof e.code === "string" && e.code.startsWith("ER_");
}

function part(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : decodeURIComponent(value);
}

/**
 * A pool of connections to a MySQL or MariaDB server (mysql2), shared by the sources, sinks and lookups
 * that locate it by id. Section `[connection:<Id>]` with BSPump's keys (`host`, `port`, `user`,
 * `password`, `db`, `connect_timeout`, `connection_pool_maxsize`), or a `url`
 * (`mysql://user:password@host:3306/db`) whose parts the keys fill in where it has none.
 *
 * `connect()` needs no server: connections are opened when first used, and `getConnection()` waits
 * for a server that is down (trying again with backoff) instead of failing.
 */
export class MySQLConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "",
    host: "localhost",
    port: 3306,
    user: "",
    password: "",
    db: "",
    connect_timeout: 10,
    connection_pool_maxsize: 10,
    charset: "utf8mb4",
    timezone: "local",
    reconnect_delay: 0.5,
    reconnect_delay_max: 10.0,
  };

  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly reconnectDelay: number;
  readonly reconnectDelayMax: number;
  /** `getConnection()` attempts that failed with a transient error (a server down or unreachable). */
  readonly stats = { connectFailures: 0 };
  readonly #options: PoolOptions;
  #pool: Pool | undefined;

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const c = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: c.section, key });
    const raw = c.get("url").trim();
    let url: URL | undefined;
    if (raw !== "") {
      try {
        url = new URL(raw);
      } catch (error) {
        throw new ConfigError("not a URL", at("url"), "PUMP_CONFIG_VALUE", { cause: error });
      }
      if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") throw new ConfigError(`the URL must be mysql://, not ${url.protocol}//`, at("url"), "PUMP_CONFIG_VALUE");
    }
    this.host = part(url?.hostname) ?? c.get("host");
    this.port = url?.port !== undefined && url.port !== "" ? Number(url.port) : c.getInt("port");
    this.user = part(url?.username) ?? c.get("user");
    const password = part(url?.password) ?? c.get("password");
    this.database = part(url?.pathname.replace(/^\//, "")) ?? c.get("db");
    const maxsize = c.getInt("connection_pool_maxsize");
    if (!(maxsize >= 1)) throw new ConfigError(`must be 1 or more, got ${maxsize}`, at("connection_pool_maxsize"), "PUMP_CONFIG_VALUE");
    this.reconnectDelay = c.getSeconds("reconnect_delay");
    this.reconnectDelayMax = Math.max(c.getSeconds("reconnect_delay_max"), this.reconnectDelay);
    if (!(this.reconnectDelay > 0)) throw new ConfigError(`must be more than 0, got ${this.reconnectDelay}`, at("reconnect_delay"), "PUMP_CONFIG_VALUE");
    this.#options = {
      host: this.host,
      port: this.port,
      user: this.user,
      password,
      database: this.database === "" ? undefined : this.database,
      connectTimeout: c.getSeconds("connect_timeout") * 1000,
      connectionLimit: maxsize,
      waitForConnections: true,
      queueLimit: 0,
      charset: c.get("charset"),
      timezone: c.get("timezone") as PoolOptions["timezone"],
      supportBigNumbers: true,
      enableKeepAlive: true,
    };
  }

  /** The mysql2 (promise) pool; created on first use. */
  override acquire(): Pool {
    if (this.#pool === undefined) {
      const pool = mysql.createPool(this.#options);
      // A broken connection is dropped by the pool; the error reaches whoever was using it.
      pool.on("connection", (connection) => connection.on("error", () => {}));
      this.#pool = pool;
    }
    return this.#pool;
  }

  override async connect(): Promise<void> {
    this.acquire();
    this.log.info("MySQL connection", { host: this.host, port: this.port, user: this.user, db: this.database });
  }

  override async disconnect(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    try {
      await pool?.end();
    } catch (error) {
      this.log.warn("The MySQL pool did not close cleanly", { error });
    }
  }

  /**
   * A connection of the pool (release it when done), waiting for a server that is down or unreachable:
   * transient failures are tried again with backoff (`reconnect_delay` doubling up to
   * `reconnect_delay_max`) until `signal` aborts, which rejects with its reason. Other errors (access
   * denied, unknown database) reject at once.
   */
  async getConnection(signal?: AbortSignal): Promise<PoolConnection> {
    let wait = this.reconnectDelay;
    for (let failures = 1; ; failures++) {
      signal?.throwIfAborted();
      try {
        return await this.acquire().getConnection();
      } catch (error) {
        if (!isTransient(error)) throw error;
        this.stats.connectFailures++;
        this.log[failures === 1 ? "warn" : "debug"]("Cannot connect to MySQL; trying again", { host: this.host, port: this.port, error, in: wait, failures });
        await delay(wait * 1000, undefined, signal === undefined ? { ref: false } : { signal, ref: false });
        wait = Math.min(wait * 2, this.reconnectDelayMax);
      }
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Host: this.host, Port: this.port, User: this.user, Db: this.database, Stats: { ...this.stats } };
  }
}

import { createClient, RESP_TYPES, type RedisClientType } from "@redis/client";
import { ConfigError, Connection, UsageError, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";

/** A node-redis client whose strings come back as Buffers: list elements are bytes, and LREM must get them back exactly. */
export type RedisBytesClient = RedisClientType<Record<string, never>, Record<string, never>, Record<string, never>, 2, { [RESP_TYPES.BLOB_STRING]: BufferConstructor }>;

/**
 * A link to a Redis server, shared by the sources and sinks that locate it by id: section
 * `[connection:RedisConnection]`. `url` is `redis://[user:password@]host:port[/db]` (`rediss://` for
 * TLS); `username`, `password` and `db` override what it says, so the password can come from
 * `${ENV}` apart from the URL.
 *
 * `connect()` does not need the server: the client reconnects by itself (backoff from
 * `reconnect_delay` doubling up to `reconnect_delay_max`) and commands wait for it, so a pump whose
 * Redis is down at start waits and goes on when it is up. Blocking reads (a list source's BLMOVE) get
 * a connection of their own (`openBlocking()`), so they never hold up the sinks' writes.
 */
export class RedisConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "redis://127.0.0.1:6379",
    username: "",
    password: "",
    db: "",
    connect_timeout: 5,
    reconnect_delay: 0.1,
    reconnect_delay_max: 5,
  };

  /** `host:port` of the server (for logs: the URL may hold a password). */
  readonly server: string;
  readonly #options: Parameters<typeof createClient>[0];
  #client: RedisBytesClient | undefined;
  readonly #blocking = new Set<RedisBytesClient>();

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const c = this.config;
    const url = c.get("url").trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new ConfigError("not a URL (redis://host:port)", { section: c.section, key: "url" }, "PUMP_CONFIG_VALUE", { cause: error });
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
      throw new ConfigError(`expected a redis:// or rediss:// URL, got ${parsed.protocol}//`, { section: c.section, key: "url" }, "PUMP_CONFIG_VALUE");
    }
    this.server = parsed.host;
    const delay = c.getSeconds("reconnect_delay") * 1000;
    const delayMax = Math.max(c.getSeconds("reconnect_delay_max") * 1000, delay);
    const username = c.get("username");
    const password = c.get("password");
    const db = c.get("db").trim();
    this.#options = {
      url,
      ...(username === "" ? {} : { username }),
      ...(password === "" ? {} : { password }),
      ...(db === "" ? {} : { database: c.getInt("db") }),
      socket: {
        connectTimeout: c.getSeconds("connect_timeout") * 1000,
        reconnectStrategy: (retries: number) => Math.min(delay * 2 ** Math.min(retries, 20), delayMax),
      },
    };
  }

  /** Connects the shared client in the background (see the class comment): returns at once. */
  override async connect(): Promise<void> {
    if (this.#client !== undefined) return;
    this.log.info("Redis connection", { server: this.server });
    this.#client = this.#open("shared");
  }

  override async disconnect(): Promise<void> {
    const clients = [...this.#blocking];
    this.#blocking.clear();
    if (this.#client !== undefined) clients.push(this.#client);
    this.#client = undefined;
    // close() lets the commands sent (acknowledgements, writes) finish first
    await Promise.all(clients.map((client) => (client.isOpen ? client.close().catch(() => client.destroy()) : undefined)));
  }

  /** The shared client (writes, acknowledgements). */
  override acquire(): RedisBytesClient {
    if (this.#client === undefined) throw new UsageError(`RedisConnection '${this.id}' is not connected`);
    return this.#client;
  }

  /** A client of its own for blocking commands; `closeBlocking()` it when done (the connection closes what is left). */
  openBlocking(): RedisBytesClient {
    if (this.#client === undefined) throw new UsageError(`RedisConnection '${this.id}' is not connected`);
    const client = this.#open("blocking");
    this.#blocking.add(client);
    return client;
  }

  closeBlocking(client: RedisBytesClient): void {
    if (!this.#blocking.delete(client)) return;
    // a blocked command cannot be waited for: the connection is dropped, the server cancels it
    client.destroy();
  }

  #open(role: string): RedisBytesClient {
    const client = createClient(this.#options);
    let down = false;
    client.on("error", (error: unknown) => {
      // the client reconnects by itself; say so once per outage
      if (down) return;
      down = true;
      this.log.warn("Redis connection lost; reconnecting", { server: this.server, client: role, error });
    });
    client.on("ready", () => {
      if (!down) return;
      down = false;
      this.log.notice("Redis connection is back", { server: this.server, client: role });
    });
    client.connect().catch((error: unknown) => this.log.error("Redis client gave up connecting", { server: this.server, client: role, error }));
    return client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as RedisBytesClient;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Server: this.server, Connected: this.#client?.isReady ?? false };
  }
}

import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, Connection, PubSub, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import amqp, { type ChannelModel, type Options } from "amqplib";

/** Published on `connection.pubsub` with the amqplib `ChannelModel` each time the connection opens. */
export const AMQP_OPEN = "AMQPConnection.open!";
/** Published on `connection.pubsub` with the reason (an Error, or undefined) each time an open connection is lost. */
export const AMQP_CLOSE = "AMQPConnection.close!";
/** Published when the broker blocks publishers (a resource alarm), with its reason; `AMQPConnection.unblocked!` when it lifts. */
export const AMQP_BLOCKED = "AMQPConnection.blocked!";
export const AMQP_UNBLOCKED = "AMQPConnection.unblocked!";

export interface AMQPConnectionStats {
  /** Connection attempts made. */
  attempts: number;
  /** Attempts that opened a connection. */
  connects: number;
  /** Open connections lost (not counting `disconnect()`). */
  disconnects: number;
}

/** The URL with its password hidden, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "<unparsable url>";
  }
}

/**
 * A link to a RabbitMQ broker (AMQP 0-9-1), shared by the sources and sinks that locate it by id.
 * Section `[connection:<Id>]`.
 *
 * `connect()` does not need the broker: it starts a loop that opens the connection and, whenever it
 * fails or is lost, tries again after `reconnect_delay` seconds, doubling up to `reconnect_delay_max`
 * (with a little jitter), back to `reconnect_delay` once connected. Sources and sinks wait for it
 * (`waitOpen()`) and hear about each open and loss on `pubsub` (`AMQPConnection.open!`,
 * `AMQPConnection.close!`, as in BSPump), where they open their channels again.
 */
export class AMQPConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "amqp://localhost/",
    vhost: "",
    username: "",
    password: "",
    heartbeat: 60,
    appname: "@pump/amqp",
    connect_timeout: 10,
    reconnect_delay: 1.0,
    reconnect_delay_max: 30.0,
  };

  /** `AMQPConnection.open!`, `AMQPConnection.close!`, `AMQPConnection.blocked!`, `AMQPConnection.unblocked!`. */
  readonly pubsub: PubSub;
  readonly stats: AMQPConnectionStats = { attempts: 0, connects: 0, disconnects: 0 };
  /** The URL with the password hidden. */
  readonly url: string;
  readonly vhost: string;
  readonly reconnectDelay: number;
  readonly reconnectDelayMax: number;
  readonly #options: Options.Connect;
  readonly #socketOptions: { timeout: number; clientProperties: Record<string, unknown> };
  #model: ChannelModel | undefined;
  #blocked = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #waiters = new Set<(model: ChannelModel) => void>();

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const c = this.config;
    const raw = c.get("url").trim();
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch (error) {
      throw new ConfigError(`not a URL: '${redactUrl(raw)}'`, { section: c.section, key: "url" }, "PUMP_CONFIG_VALUE", { cause: error });
    }
    const protocol = parsed.protocol.replace(/:$/, "");
    if (protocol !== "amqp" && protocol !== "amqps") {
      throw new ConfigError(`the URL must be amqp:// or amqps://, not ${protocol}://`, { section: c.section, key: "url" }, "PUMP_CONFIG_VALUE");
    }
    // As amqplib: no user anywhere means guest/guest.
    const username = c.get("username") || fromUrl(parsed.username) || "guest";
    const password = c.get("password") || fromUrl(parsed.password) || (username === "guest" ? "guest" : "");
    this.vhost = c.get("vhost") || fromUrl(parsed.pathname.replace(/^\//, "")) || "/";
    const heartbeat = c.getInt("heartbeat");
    const timeout = c.getSeconds("connect_timeout");
    this.reconnectDelay = c.getSeconds("reconnect_delay");
    this.reconnectDelayMax = Math.max(c.getSeconds("reconnect_delay_max"), this.reconnectDelay);
    for (const [key, value] of [["heartbeat", heartbeat], ["connect_timeout", timeout], ["reconnect_delay", this.reconnectDelay]] as const) {
      if (!(value >= 0)) throw new ConfigError(`must be 0 or more, got ${value}`, { section: c.section, key }, "PUMP_CONFIG_VALUE");
    }
    this.#options = {
      protocol,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: parsed.port === "" ? (protocol === "amqp" ? 5672 : 5671) : Number(parsed.port),
      username,
      password,
      vhost: this.vhost,
      heartbeat,
      ...numberParam(parsed, "frameMax"),
      ...numberParam(parsed, "channelMax"),
    };
    const shown = new URL(parsed.toString());
    shown.username = encodeURIComponent(username);
    shown.password = password === "" ? "" : "***";
    shown.pathname = `/${encodeURIComponent(this.vhost)}`;
    this.url = shown.toString();
    this.#socketOptions = { timeout: timeout * 1000, clientProperties: { application: c.get("appname"), connection_name: `${c.get("appname")}:${this.id}` } };
    this.pubsub = new PubSub(this.log);
  }

  /** The open amqplib connection, or undefined while there is none. */
  override acquire(): ChannelModel | undefined {
    return this.#model;
  }

  get isOpen(): boolean {
    return this.#model !== undefined;
  }

  /** Whether the broker blocks publishing on this connection (a memory or disk alarm). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Resolves with the open connection, now or once it opens; rejects with the signal's reason when it aborts first. */
  waitOpen(signal?: AbortSignal): Promise<ChannelModel> {
    const model = this.#model;
    if (model !== undefined) return Promise.resolve(model);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(done);
        reject(signal!.reason);
      };
      const done = (opened: ChannelModel): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(opened);
      };
      this.#waiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Starts connecting in the background and returns; the broker may be down now and come up later. */
  override async connect(): Promise<void> {
    if (this.#loop !== undefined) return;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    this.log.info("AMQP connection", { url: this.url });
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Stops reconnecting and closes the connection (sources and sinks have closed their channels by then). */
  override async disconnect(): Promise<void> {
    this.#abort.abort();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let wait = this.reconnectDelay;
    let failures = 0;
    while (!signal.aborted) {
      this.stats.attempts++;
      let model: ChannelModel;
      try {
        model = await amqp.connect(this.#options, this.#socketOptions);
      } catch (error) {
        failures++;
        // The first failure of a series is worth a warning; the retries after it are not.
        this.log[failures === 1 ? "warn" : "debug"]("Cannot connect to the AMQP broker; trying again", { url: this.url, error, in: wait, failures });
        if (!(await this.#sleep(wait, signal))) return;
        wait = Math.min(wait * 2, this.reconnectDelayMax);
        continue;
      }
      if (signal.aborted) {
        await closeQuietly(model);
        return;
      }
      failures = 0;
      wait = this.reconnectDelay;
      const lost = await this.#serve(model, signal);
      if (signal.aborted) return;
      this.stats.disconnects++;
      this.log.warn("AMQP connection lost; reconnecting", { url: this.url, error: lost, in: wait });
      if (!(await this.#sleep(wait, signal))) return;
    }
  }

  /** Keeps the opened connection until it closes (resolves the reason) or the loop is aborted (closes it). */
  async #serve(model: ChannelModel, signal: AbortSignal): Promise<unknown> {
    const closed = new Promise<unknown>((resolve) => {
      let reason: unknown;
      model.on("error", (error: unknown) => {
        reason = error;
      });
      model.once("close", (error?: unknown) => {
        // At once, so nobody waiting for a connection is handed this dead one (its channels closed just before).
        if (this.#model === model) this.#model = undefined;
        this.#blocked = false;
        resolve(error ?? reason);
      });
    });
    model.on("blocked", (reason: string) => {
      this.#blocked = true;
      this.log.warn("The broker blocks publishing", { reason });
      this.pubsub.publish(AMQP_BLOCKED, reason);
    });
    model.on("unblocked", () => {
      this.#blocked = false;
      this.log.notice("The broker unblocked publishing");
      this.pubsub.publish(AMQP_UNBLOCKED);
    });
    this.#model = model;
    this.stats.connects++;
    this.log.info("AMQP connected", { url: this.url });
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter(model);
    this.pubsub.publish(AMQP_OPEN, model);
    const aborted = new Promise<typeof ABORTED>((resolve) => signal.addEventListener("abort", () => resolve(ABORTED), { once: true }));
    const outcome = await Promise.race([closed, aborted]);
    this.#model = undefined;
    this.#blocked = false;
    if (outcome === ABORTED) {
      await closeQuietly(model);
      this.pubsub.publish(AMQP_CLOSE, undefined);
      return undefined;
    }
    this.pubsub.publish(AMQP_CLOSE, outcome);
    return outcome;
  }

  /** Waits (with ±20 % jitter); false when aborted meanwhile. */
  async #sleep(seconds: number, signal: AbortSignal): Promise<boolean> {
    const ms = seconds * 1000 * (0.8 + Math.random() * 0.4);
    try {
      await delay(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url, Open: this.isOpen, Blocked: this.#blocked, Stats: { ...this.stats } };
  }
}

const ABORTED = Symbol("aborted");

function fromUrl(part: string): string {
  return decodeURIComponent(part);
}

function numberParam(url: URL, name: "frameMax" | "channelMax"): Partial<Options.Connect> {
  const value = url.searchParams.get(name);
  return value === null || !/^\d+$/.test(value) ? {} : { [name]: Number(value) };
}

async function closeQuietly(model: ChannelModel): Promise<void> {
  try {
    await model.close();
  } catch {
    // already closed
  }
}

import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, deliveryOf, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { WebSocket, type ClientOptions } from "ws";
import { encodeValue } from "./encode.js";
import { WebSocketError } from "./errors.js";
import { configHeaders, positive } from "./options.js";

interface Item {
  data: Uint8Array | string;
  binary: boolean;
  size: number;
  context: Context;
}

export interface HTTPClientWebSocketSinkOptions extends ComponentOptions {
  /** Headers of the opening request (e.g. `Authorization`); they win over the `headers` config lines. */
  headers?: Record<string, string> | undefined;
  /** More options for the `ws` client (TLS: `ca`, `cert`, `key`, `rejectUnauthorized`...). BSPump's `ssl=`. */
  ws?: ClientOptions | undefined;
}

export interface HTTPClientWebSocketSinkStats {
  /** Connections opened. */
  connections: number;
  /** Messages written to the socket. */
  sent: number;
  /** Messages sent again after the socket closed before writing them. */
  resent: number;
  /** Messages given up on (still queued when the sink stopped without a connection). */
  failed: number;
  /** Messages the server sent (only counted: the sink does not read). */
  received: number;
}

/**
 * BSPump's HTTPClientWebSocketSink: sends each event as a WebSocket message to `url` (`http(s)://`
 * becomes `ws(s)://`): a Buffer or Uint8Array as a binary message, a string as a text message, anything
 * else as JSON text.
 *
 * The sink connects when its pipeline starts and reconnects whenever the socket closes, waiting
 * `reconnect_delay` seconds, doubled after each failure up to `reconnect_delay_max`. The pipeline is
 * throttled while there is no connection and while more than `output_queue_max_size` messages (or
 * `output_queue_max_bytes`) wait, until half of both is reached. Unlike BSPump, messages waiting when the
 * socket closes are kept and sent on the next connection. Each event's delivery is confirmed once its
 * message was written to the socket (WebSocket has no acknowledgement; a message written just before the
 * connection broke may be lost). A ping every `heartbeat` seconds finds dead connections.
 *
 * `stop()` sends what waits; if there is no connection it waits for one at most `close_timeout`
 * seconds, then gives the messages up (their deliveries fail, so a source tracking them reads them
 * again).
 */
export class HTTPClientWebSocketSink extends Sink<unknown> {
  static override ConfigDefaults: ConfigValues = {
    url: "https://localhost:8081/",
    output_queue_max_size: 100,
    output_queue_max_bytes: 16777216,
    headers: "", // "Name: value" lines for the opening request
    reconnect_delay: 0.5, // seconds, doubled after each failed attempt
    reconnect_delay_max: 5,
    heartbeat: 30, // seconds between pings; 0 = none
    close_timeout: 10, // seconds stop() waits for a connection to send what is left
  };

  override readonly confirmsDelivery = true;
  readonly url: string;
  readonly stats: HTTPClientWebSocketSinkStats = { connections: 0, sent: 0, resent: 0, failed: 0, received: 0 };
  readonly #headers: Record<string, string>;
  readonly #wsOptions: ClientOptions;
  readonly #maxSize: number;
  readonly #maxBytes: number;
  readonly #delayMs: number;
  readonly #delayMaxMs: number;
  readonly #heartbeatMs: number;
  readonly #closeTimeoutMs: number;

  #queue: Item[] = [];
  #queuedBytes = 0;
  /** Written to the socket, waiting for the write callback. */
  #unconfirmed: Item[] = [];
  #socket: WebSocket | undefined;
  #running = false;
  #throttling = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #idle: PromiseWithResolvers<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, options: HTTPClientWebSocketSinkOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    const raw = config.get("url").trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`'${raw}' is not a URL`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE");
    }
    if (url.protocol === "http:") url.protocol = "ws:";
    else if (url.protocol === "https:") url.protocol = "wss:";
    else if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new ConfigError(`'${raw}' is not an http(s) or ws(s) URL`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE");
    }
    this.url = url.href;
    this.#headers = { ...configHeaders(config), ...options.headers };
    this.#wsOptions = options.ws ?? {};
    this.#maxSize = positive(config, "output_queue_max_size", { integer: true });
    this.#maxBytes = positive(config, "output_queue_max_bytes", { integer: true });
    this.#delayMs = positive(config, "reconnect_delay", { seconds: true }) * 1000;
    this.#delayMaxMs = Math.max(positive(config, "reconnect_delay_max", { seconds: true }) * 1000, this.#delayMs);
    this.#heartbeatMs = positive(config, "heartbeat", { seconds: true, allowZero: true }) * 1000;
    this.#closeTimeoutMs = positive(config, "close_timeout", { seconds: true, allowZero: true }) * 1000;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Messages taken and not yet written to the socket. */
  get buffered(): number {
    return this.#queue.length + this.#unconfirmed.length;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#updateThrottle();
    this.#loop = this.#connectLoop();
  }

  process(context: Context, event: unknown): void {
    let item: Item;
    if (typeof event === "string") item = { data: event, binary: false, size: Buffer.byteLength(event), context };
    else {
      const { body, kind } = encodeValue(event);
      item = kind === "bytes" ? { data: body, binary: true, size: body.byteLength, context } : { data: Buffer.from(body).toString("utf8"), binary: false, size: body.byteLength, context };
    }
    this.#queue.push(item);
    this.#queuedBytes += item.size;
    this.#updateThrottle();
    this.#flush();
  }

  override async stop(): Promise<void> {
    if (this.#loop === undefined) return;
    if (this.buffered > 0) {
      this.#idle = Promise.withResolvers();
      await Promise.race([this.#idle.promise, delay(this.#closeTimeoutMs, undefined, { ref: false })]);
      this.#idle = undefined;
    }
    this.#running = false;
    this.#abort.abort();
    const socket = this.#socket;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      socket.close(1000, "stopping");
      // A peer that does not answer the closing handshake (or does not read) is cut off after a moment.
      const cut = setTimeout(() => socket.terminate(), 1000);
      await this.#loop;
      clearTimeout(cut);
    } else {
      socket?.terminate();
      await this.#loop;
    }
    this.#loop = undefined;
    const left = [...this.#unconfirmed, ...this.#queue];
    this.#unconfirmed = [];
    this.#queue = [];
    this.#queuedBytes = 0;
    if (left.length > 0) {
      const error = new WebSocketError(`gave up ${left.length} message(s) for '${this.url}': no connection to send them on`);
      this.log.error(error.message);
      this.stats.failed += left.length;
      for (const item of left) deliveryOf(item.context)?.fail(error);
    }
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  #updateThrottle(): void {
    const full = this.buffered >= this.#maxSize || this.#queuedBytes >= this.#maxBytes;
    const low = this.buffered <= this.#maxSize / 2 && this.#queuedBytes <= this.#maxBytes / 2;
    const hold = this.#running && (!this.connected || full || (this.#throttling && !low));
    if (hold !== this.#throttling) {
      this.#throttling = hold;
      this.pipeline.throttle(this, hold);
    }
  }

  /** Writes what waits to the open socket, confirming each message once written. */
  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    while (this.#queue.length > 0) {
      const item = this.#queue.shift()!;
      this.#queuedBytes -= item.size;
      this.#unconfirmed.push(item);
      socket.send(item.data, { binary: item.binary }, (error) => this.#written(item, error));
    }
  }

  #written(item: Item, error: Error | null | undefined): void {
    // Not written: the socket is closing, and its close handler puts every unwritten message back, in order.
    if (error !== undefined && error !== null) return;
    const at = this.#unconfirmed.indexOf(item);
    if (at === -1) return;
    this.#unconfirmed.splice(at, 1);
    this.stats.sent++;
    deliveryOf(item.context)?.done();
    this.#updateThrottle();
    if (this.buffered === 0) this.#idle?.resolve();
  }

  /** Puts messages back at the head of the queue, in their order. */
  #requeue(items: Item[]): void {
    this.#queue.unshift(...items);
    for (const item of items) this.#queuedBytes += item.size;
  }

  async #connectLoop(): Promise<void> {
    let wait = this.#delayMs;
    let failures = 0;
    while (this.#running) {
      const opened = await this.#connectOnce();
      if (!this.#running) return;
      if (opened) {
        wait = this.#delayMs;
        failures = 0;
      } else failures++;
      if (failures === 1 || opened) this.log.warn("WebSocket disconnected; reconnecting", { url: this.url, in: wait / 1000 });
      try {
        await delay(wait, undefined, { signal: this.#abort.signal });
      } catch {
        return;
      }
      if (!opened) wait = Math.min(wait * 2, this.#delayMaxMs);
    }
  }

  /** One connection, from opening to closing; resolves whether it opened. */
  #connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let opened = false;
      let alive = true;
      let heartbeat: NodeJS.Timeout | undefined;
      const socket = new WebSocket(this.url, { handshakeTimeout: 10_000, ...this.#wsOptions, headers: { ...this.#wsOptions.headers, ...this.#headers } });
      this.#socket = socket;
      socket.on("open", () => {
        opened = true;
        this.stats.connections++;
        this.log.info("WebSocket connected", { url: this.url });
        this.#updateThrottle();
        this.#flush();
        if (this.#heartbeatMs > 0) {
          heartbeat = setInterval(() => {
            if (!alive) {
              this.log.warn("WebSocket peer stopped answering pings", { url: this.url });
              socket.terminate();
              return;
            }
            alive = false;
            socket.ping();
          }, this.#heartbeatMs);
          heartbeat.unref();
        }
      });
      socket.on("pong", () => {
        alive = true;
      });
      socket.on("message", () => {
        this.stats.received++;
      });
      socket.on("error", (error) => {
        if (!opened) this.log.debug("Cannot open the WebSocket", { url: this.url, error: error.message });
        else this.log.warn("WebSocket error", { url: this.url, error: error.message });
      });
      socket.on("close", () => {
        if (heartbeat !== undefined) clearInterval(heartbeat);
        if (this.#socket === socket) this.#socket = undefined;
        // Messages the socket took but did not write go back to the head of the queue, in their order.
        const unwritten = this.#unconfirmed.splice(0);
        if (unwritten.length > 0) {
          this.stats.resent += unwritten.length;
          this.#requeue(unwritten);
        }
        this.#updateThrottle();
        resolve(opened);
      });
    });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url, Connected: this.connected, Buffered: this.buffered, Stats: { ...this.stats } };
  }
}

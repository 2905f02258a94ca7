import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, deliveryOf, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { CONTENT_TYPES, encodeValue, type BodyKind } from "./encode.js";
import { HTTPConnectionError, HTTPDeliveryError, HTTPStatusError } from "./errors.js";
import { choice, configHeaders, positive, retryAfter, statusCodes } from "./options.js";
import { send } from "./request.js";

interface Item {
  body: Uint8Array;
  kind: BodyKind;
  context: Context;
  event: unknown;
  /** performance.now() when the sink took it. */
  at: number;
}

export interface HTTPClientSinkOptions extends ComponentOptions {
  /** Request headers (e.g. `Authorization`); they win over the `headers` config lines. */
  headers?: Record<string, string> | undefined;
}

export interface HTTPClientSinkStats {
  /** Requests sent (retries included). */
  requests: number;
  /** Events the server took (a status in `response_code`). */
  delivered: number;
  /** Requests that failed and were tried again. */
  retries: number;
  /** Events given up on. */
  failed: number;
  /** Times the sink throttled the pipeline because its buffer was full. */
  throttled: number;
}

export type BatchFormat = "ndjson" | "json";

const NEWLINE = Buffer.from("\n");
const COMMA = Buffer.from(",");
const OPEN = Buffer.from("[");
const CLOSE = Buffer.from("]");

/**
 * Sends events to an HTTP endpoint (a webhook, an ingest API). BSPump has no such sink; this one
 * follows the shape of the package's other server sinks.
 *
 * Each event becomes bytes: a Buffer or Uint8Array as it is, a string as UTF-8, anything else as JSON.
 * With `batch_size` = 1 (the default) each event is one request, sent with the Content-Type of its
 * kind; with more, up to `batch_size` events (and `batch_max_bytes`) go in one request, as NDJSON
 * (`batch_format = ndjson`: one event a line) or as a JSON array (`json`; strings and bytes must then
 * be one JSON document each, as the JSON parsers of core make them). A batch leaves when full or
 * `linger` seconds after its first event.
 *
 * Requests go one at a time, so events keep their order. A response in `response_code` (any 2xx by
 * default) confirms the request's events (`confirmsDelivery`: a source tracking deliveries commits only
 * then). A server that cannot be reached, a timeout, 408, 429 and 5xx are retried with exponential
 * backoff (`retry_backoff` doubling up to `retry_backoff_max`, at least the server's `Retry-After`) for
 * up to `delivery_timeout` seconds; then, or on another status, the events go through the pipeline's
 * error handling (hard by default: the pipeline stops and the deliveries fail). While more than
 * `buffer_max_events` events or `buffer_max_bytes` bytes wait, the pipeline is throttled, until half
 * of both is reached. `stop()` sends what is left.
 */
export class HTTPClientSink extends Sink<unknown> {
  static override ConfigDefaults: ConfigValues = {
    url: "http://localhost:8080/",
    method: "POST",
    headers: "", // "Name: value" lines
    content_type: "", // "" = from the body (JSON, text, bytes; NDJSON or JSON for batches)
    response_code: "200-299",
    batch_size: 1, // events per request
    batch_format: "ndjson", // ndjson | json
    batch_max_bytes: 1048576,
    linger: 0.05, // seconds a batch may wait to fill
    buffer_max_events: 1000,
    buffer_max_bytes: 16777216,
    timeout: 30, // seconds without an answer
    retry_backoff: 0.1, // seconds, doubled after each failure
    retry_backoff_max: 10,
    delivery_timeout: 300, // seconds of retrying a request before giving up; 0 = never give up
  };

  override readonly confirmsDelivery = true;
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly batchSize: number;
  readonly batchFormat: BatchFormat;
  readonly stats: HTTPClientSinkStats = { requests: 0, delivered: 0, retries: 0, failed: 0, throttled: 0 };
  readonly #contentType: string | undefined;
  readonly #accepts: (status: number) => boolean;
  readonly #batchBytes: number;
  readonly #lingerMs: number;
  readonly #highEvents: number;
  readonly #highBytes: number;
  readonly #timeoutMs: number;
  readonly #backoffMs: number;
  readonly #backoffMaxMs: number;
  readonly #deliveryTimeoutMs: number;

  #queue: Item[] = [];
  #queuedBytes = 0;
  #inflight = 0;
  #inflightBytes = 0;
  #throttling = false;
  #closing = false;
  #wake: PromiseWithResolvers<void> | undefined;
  #loop: Promise<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, options: HTTPClientSinkOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    this.url = config.get("url").trim();
    if (!URL.canParse(this.url)) throw new ConfigError(`'${this.url}' is not a URL`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE");
    this.method = config.get("method").trim().toUpperCase();
    if (this.method === "GET" || this.method === "HEAD") {
      throw new ConfigError(`a ${this.method} request cannot carry events: use POST, PUT or PATCH`, { section: config.section, key: "method" }, "PUMP_CONFIG_VALUE");
    }
    const headers = { ...configHeaders(config), ...options.headers };
    const given = Object.keys(headers).find((name) => name.toLowerCase() === "content-type");
    const contentType = config.get("content_type").trim();
    if (given !== undefined) {
      this.#contentType = headers[given];
      delete headers[given];
    } else this.#contentType = contentType === "" ? undefined : contentType;
    this.headers = headers;
    this.#accepts = statusCodes(config);
    this.batchSize = positive(config, "batch_size", { integer: true });
    this.batchFormat = choice(config, "batch_format", ["ndjson", "json"] as const);
    this.#batchBytes = positive(config, "batch_max_bytes", { integer: true });
    this.#lingerMs = positive(config, "linger", { seconds: true, allowZero: true }) * 1000;
    this.#highEvents = positive(config, "buffer_max_events", { integer: true });
    this.#highBytes = positive(config, "buffer_max_bytes", { integer: true });
    this.#timeoutMs = positive(config, "timeout", { seconds: true, allowZero: true }) * 1000;
    this.#backoffMs = positive(config, "retry_backoff", { seconds: true }) * 1000;
    this.#backoffMaxMs = Math.max(positive(config, "retry_backoff_max", { seconds: true }) * 1000, this.#backoffMs);
    this.#deliveryTimeoutMs = positive(config, "delivery_timeout", { seconds: true, allowZero: true }) * 1000;
  }

  /** Events taken and not yet confirmed by the server (queued and in flight). */
  get buffered(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Bytes of the events taken and not yet confirmed. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#inflightBytes;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#closing = false;
    this.#loop = this.#run();
  }

  process(context: Context, event: unknown): void {
    const { body, kind } = encodeValue(event);
    this.#queue.push({ body, kind, context, event, at: performance.now() });
    this.#queuedBytes += body.byteLength;
    this.#updateThrottle();
    this.#signal();
  }

  /** Sends what is buffered (retrying for at most `delivery_timeout`), then stops. */
  override async stop(): Promise<void> {
    this.#closing = true;
    this.#signal();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.resolve();
  }

  #sleep(ms: number): Promise<void> {
    const wake = (this.#wake ??= Promise.withResolvers<void>());
    if (ms === Infinity) return wake.promise;
    return Promise.race([wake.promise, delay(ms, undefined, { ref: false })]);
  }

  #updateThrottle(): void {
    const count = this.buffered;
    const bytes = this.bufferedBytes;
    if (!this.#throttling && (count >= this.#highEvents || bytes >= this.#highBytes)) {
      this.#throttling = true;
      this.stats.throttled++;
      this.pipeline.throttle(this, true);
    } else if (this.#throttling && count <= this.#highEvents / 2 && bytes <= this.#highBytes / 2) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await this.#sleep(Infinity);
        continue;
      }
      const full = this.#queue.length >= this.batchSize || this.#queuedBytes >= this.#batchBytes;
      if (!full && !this.#closing && !this.#throttling) {
        const wait = this.#lingerMs - (performance.now() - this.#queue[0]!.at);
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
      }
      const batch = this.#take();
      await this.#deliver(batch);
      this.#inflight = 0;
      this.#inflightBytes = 0;
      this.#updateThrottle();
    }
  }

  /** The next request's events: at most `batch_size` events and `batch_max_bytes` bytes (at least one event). */
  #take(): Item[] {
    let n = 0;
    let size = 0;
    while (n < this.#queue.length && n < this.batchSize) {
      const next = this.#queue[n]!.body.byteLength;
      if (n > 0 && size + next > this.#batchBytes) break;
      size += next;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#queuedBytes -= size;
    this.#inflight = n;
    this.#inflightBytes = size;
    return batch;
  }

  /** The request body and its Content-Type. A batch of one is sent as the event alone. */
  #body(batch: Item[]): { body: Uint8Array; contentType: string } {
    if (this.batchSize === 1) {
      const item = batch[0]!;
      return { body: item.body, contentType: this.#contentType ?? CONTENT_TYPES[item.kind] };
    }
    const parts: Uint8Array[] = [];
    if (this.batchFormat === "json") {
      parts.push(OPEN);
      batch.forEach((item, i) => {
        if (i > 0) parts.push(COMMA);
        parts.push(item.body);
      });
      parts.push(CLOSE);
      return { body: Buffer.concat(parts), contentType: this.#contentType ?? CONTENT_TYPES.json };
    }
    for (const item of batch) parts.push(item.body, NEWLINE);
    return { body: Buffer.concat(parts), contentType: this.#contentType ?? "application/x-ndjson" };
  }

  async #deliver(batch: Item[]): Promise<void> {
    const { body, contentType } = this.#body(batch);
    const headers = { ...this.headers, "Content-Type": contentType };
    const deadline = batch[0]!.at + this.#deliveryTimeoutMs;
    let backoff = this.#backoffMs;
    let attempts = 0;
    for (;;) {
      let error: HTTPStatusError | HTTPConnectionError;
      try {
        this.stats.requests++;
        const exchange = await send(this.url, { method: this.method, headers, body, timeoutMs: this.#timeoutMs });
        const text = await exchange.drain();
        if (this.#accepts(exchange.status)) break;
        error = new HTTPStatusError(exchange.status, this.url, { retryAfter: retryAfter(exchange.response.headers.get("retry-after")), body: text });
      } catch (thrown) {
        if (!(thrown instanceof HTTPConnectionError)) throw thrown;
        error = thrown;
      }
      const left = this.#deliveryTimeoutMs === 0 ? Infinity : deadline - performance.now();
      if (error.retriable && left > 0) {
        attempts++;
        this.stats.retries++;
        if (attempts === 1) this.log.warn("Sending failed; retrying", { url: this.url, error: error.message, events: batch.length });
        else this.log.debug("Sending failed again", { url: this.url, error: error.message, attempts });
        const wait = Math.min(Math.max(backoff, error instanceof HTTPStatusError ? (error.retryAfter ?? 0) * 1000 : 0), left);
        await delay(wait, undefined, { ref: false });
        backoff = Math.min(backoff * 2, this.#backoffMaxMs);
        continue;
      }
      this.#giveUp(batch, error, attempts);
      return;
    }
    if (attempts > 0) this.log.notice("Sending works again", { url: this.url, attempts, events: batch.length });
    this.stats.delivered += batch.length;
    for (const item of batch) deliveryOf(item.context)?.done();
  }

  /**
   * Gives up on a request's events: the pipeline's error handling decides, as for an event a processor
   * failed on. Hard (the default): the pipeline stops and every delivery fails. Soft or routed: the
   * events are dropped (or routed) and confirmed.
   */
  #giveUp(batch: Item[], cause: HTTPStatusError | HTTPConnectionError, attempts: number): void {
    const error = new HTTPDeliveryError(
      `gave up sending ${batch.length} event(s) to '${this.url}'${attempts > 0 ? ` after ${attempts} retries` : ""}: ${cause.message}`,
      batch.length,
      { cause },
    );
    this.stats.failed += batch.length;
    let hard = false;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      hard = i === 0 ? this.pipeline.setError(item.context, item.event, error, this) : hard || this.pipeline.setError(item.context, item.event, error, this);
      const delivery = deliveryOf(item.context);
      if (delivery === undefined) continue;
      if (hard) delivery.fail(error);
      else delivery.done();
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url, Buffered: this.buffered, BufferedBytes: this.bufferedBytes, Stats: { ...this.stats } };
  }
}

import { BatchSink, ConfigError, type BatchEntry, type BatchOutcome, type BatchSinkStats, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { CONTENT_TYPES, encodeValue, type BodyKind } from "./encode.js";
import { HTTPConnectionError, HTTPDeliveryError, HTTPStatusError } from "./errors.js";
import { choice, configHeaders, positive, retryAfter, statusCodes } from "./options.js";
import { send } from "./request.js";

/** An event as bytes, and what kind of bytes (for the Content-Type of a request of one). */
interface Body {
  body: Uint8Array;
  kind: BodyKind;
}

export interface HTTPClientSinkOptions extends ComponentOptions {
  /** Request headers (e.g. `Authorization`); they win over the `headers` config lines. */
  headers?: Record<string, string> | undefined;
}

export interface HTTPClientSinkStats extends BatchSinkStats {
  /** Requests sent (retries included). */
  requests: number;
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
 * A `BatchSink`: requests go one at a time, so events keep their order. A response in `response_code` (any 2xx by
 * default) confirms the request's events (a source tracking deliveries commits only then). A server
 * that cannot be reached, a timeout, 408, 429 and 5xx are retried with exponential backoff
 * (`retry_backoff` doubling up to `retry_backoff_max`, at least the server's `Retry-After`) for up to
 * `delivery_timeout` seconds; then, or on another status, the events go through the pipeline's error
 * handling (hard by default: the pipeline stops and the deliveries fail). While more than
 * `buffer_max_events` events or `buffer_max_bytes` bytes wait, the pipeline is throttled, until half
 * of both is reached. `stop()` sends what is left.
 */
export class HTTPClientSink extends BatchSink<unknown, Body> {
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

  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly batchSize: number;
  readonly batchFormat: BatchFormat;
  declare readonly stats: HTTPClientSinkStats;
  readonly #contentType: string | undefined;
  readonly #accepts: (status: number) => boolean;
  readonly #timeoutMs: number;

  constructor(app: PumpApplication, pipeline: Pipeline, options: HTTPClientSinkOptions = {}) {
    super(app, pipeline, options);
    this.stats.requests = 0;
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
    this.#timeoutMs = positive(config, "timeout", { seconds: true, allowZero: true }) * 1000;
    const highEvents = positive(config, "buffer_max_events", { integer: true });
    const highBytes = positive(config, "buffer_max_bytes", { integer: true });
    const backoffMs = positive(config, "retry_backoff", { seconds: true }) * 1000;
    const deliveryTimeoutMs = positive(config, "delivery_timeout", { seconds: true, allowZero: true }) * 1000;
    this.limits = {
      batchSize: this.batchSize,
      batchBytes: positive(config, "batch_max_bytes", { integer: true }),
      lingerMs: positive(config, "linger", { seconds: true, allowZero: true }) * 1000,
      highEvents,
      lowEvents: highEvents / 2,
      highBytes,
      lowBytes: highBytes / 2,
      deliveryTimeoutMs: deliveryTimeoutMs === 0 ? Infinity : deliveryTimeoutMs,
      retryDelayMs: backoffMs,
      retryDelayMaxMs: Math.max(positive(config, "retry_backoff_max", { seconds: true }) * 1000, backoffMs),
    };
  }

  protected override get target(): string {
    return `'${this.url}'`;
  }

  process(context: Context, event: unknown): void {
    const body = encodeValue(event);
    this.enqueue(context, event, body, body.body.byteLength);
  }

  /** The request body and its Content-Type. A batch of one is sent as the event alone. */
  #body(batch: readonly BatchEntry<Body>[]): { body: Uint8Array; contentType: string } {
    if (this.batchSize === 1) {
      const { body, kind } = batch[0]!.payload;
      return { body, contentType: this.#contentType ?? CONTENT_TYPES[kind] };
    }
    const parts: Uint8Array[] = [];
    if (this.batchFormat === "json") {
      parts.push(OPEN);
      batch.forEach((entry, i) => {
        if (i > 0) parts.push(COMMA);
        parts.push(entry.payload.body);
      });
      parts.push(CLOSE);
      return { body: Buffer.concat(parts), contentType: this.#contentType ?? CONTENT_TYPES.json };
    }
    for (const entry of batch) parts.push(entry.payload.body, NEWLINE);
    return { body: Buffer.concat(parts), contentType: this.#contentType ?? "application/x-ndjson" };
  }

  protected async send(batch: readonly BatchEntry<Body>[]): Promise<BatchOutcome> {
    const { body, contentType } = this.#body(batch);
    this.stats.requests++;
    const exchange = await send(this.url, { method: this.method, headers: { ...this.headers, "Content-Type": contentType }, body, timeoutMs: this.#timeoutMs });
    const text = await exchange.drain();
    if (!this.#accepts(exchange.status)) {
      throw new HTTPStatusError(exchange.status, this.url, { retryAfter: retryAfter(exchange.response.headers.get("retry-after")), body: text });
    }
  }

  /** No answer, a timeout, 408, 429 and 5xx. */
  protected override isTransient(error: unknown): boolean {
    return (error instanceof HTTPStatusError || error instanceof HTTPConnectionError) && error.retriable;
  }

  protected override retryAfterMs(error: unknown): number {
    return error instanceof HTTPStatusError ? (error.retryAfter ?? 0) * 1000 : 0;
  }

  protected override deliveryError(message: string, events: number, cause: unknown): Error {
    return new HTTPDeliveryError(message, events, { cause });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url };
  }
}

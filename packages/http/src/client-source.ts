import { TextDecoder } from "node:util";
import {
  ConfigError,
  isStopSignal,
  ParseError,
  TriggerSource,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import { HTTPConnectionError, HTTPStatusError } from "./errors.js";
import { configHeaders, positive, retryAfter, statusCodes } from "./options.js";
import { send, type Exchange } from "./request.js";
import { encodeBody } from "./encode.js";

/** The most events handed to the pipeline in one batch. */
const MAX_BATCH = 1000;

export interface HTTPClientSourceOptions extends ComponentOptions {
  /** Request headers (BSPump's `headers=`), e.g. an API key; they win over the `headers` config lines. */
  headers?: Record<string, string> | undefined;
  /**
   * The request body: a string or bytes as they are, anything else as JSON (a GraphQL query:
   * `{ query }`). Wins over the `body` config key.
   */
  body?: unknown;
}

/** What an HTTP client source puts beside each event. */
export interface HTTPClientContext extends Context {
  http_url: string;
  http_status: number;
  /** The response headers, names in lower case. */
  http_headers: Record<string, string>;
}

/** Counts of what a client source did, for `restGet()` and tests. */
export interface HTTPClientSourceStats {
  requests: number;
  /** Responses taken (a status in `response_code`). */
  responses: number;
  /** Failed attempts: unexpected statuses and connection failures. */
  failures: number;
  events: number;
}

/**
 * BSPump's HTTPABCClientSource: a TriggerSource that sends one request per cycle (`method`, `url`,
 * `headers`, `body`) and hands the response to `read()`, which subclasses implement.
 *
 * A response whose status is not in `response_code`, or a server that cannot be reached (refused,
 * reset, no answer for `timeout` seconds), is a failed attempt: logged as a warning and counted as a
 * pipeline warning; the source waits `fail_chilldown` seconds (or the server's `Retry-After`, if
 * longer) and tries again. After `max_failed_retries` failed attempts in a row the cycle fails with
 * the last error, a hard pipeline error by default (as in BSPump). A success resets the count.
 * Unlike BSPump, the retries happen within the cycle, so a RunOnceTrigger cycle is not lost to one
 * refused connection.
 */
export abstract class HTTPABCClientSource<Out = unknown> extends TriggerSource<Out> {
  static override ConfigDefaults: ConfigValues = {
    method: "GET",
    url: "http://example.com/",
    response_code: "200", // the statuses taken, any separator ("200, 204"); ranges too ("200-299")
    max_failed_retries: 3,
    fail_chilldown: 30, // seconds between failed attempts
    headers: "", // "Name: value" lines
    body: "", // the request body as text
    content_type: "", // of the body; "" = from the body: JSON, text/plain (UTF-8) or application/octet-stream
    timeout: 60, // seconds without an answer (headers, then each piece of the body)
  };

  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string | undefined;
  readonly maxFailedRetries: number;
  readonly failChilldown: number;
  readonly timeoutMs: number;
  readonly stats: HTTPClientSourceStats = { requests: 0, responses: 0, failures: 0, events: 0 };
  /** Failed attempts in a row (BSPump's FailedResponses). */
  failedResponses = 0;
  readonly #accepts: (status: number) => boolean;

  constructor(app: PumpApplication, pipeline: Pipeline, options: HTTPClientSourceOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    this.method = config.get("method").trim().toUpperCase();
    this.url = config.get("url").trim();
    if (!URL.canParse(this.url)) throw new ConfigError(`'${this.url}' is not a URL`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE");
    this.#accepts = statusCodes(config);
    this.maxFailedRetries = positive(config, "max_failed_retries", { integer: true });
    this.failChilldown = positive(config, "fail_chilldown", { seconds: true, allowZero: true });
    this.timeoutMs = positive(config, "timeout", { seconds: true, allowZero: true }) * 1000;
    const headers = { ...configHeaders(config), ...options.headers };
    const configBody = config.get("body");
    const encoded = encodeBody(options.body !== undefined ? options.body : configBody === "" ? undefined : configBody);
    this.body = encoded?.body;
    if (this.body !== undefined && (this.method === "GET" || this.method === "HEAD")) {
      throw new ConfigError(`a ${this.method} request cannot have a body: set method to POST (or PUT...)`, { section: config.section, key: "method" }, "PUMP_CONFIG_VALUE");
    }
    const contentType = config.get("content_type").trim();
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
      if (contentType !== "") headers["Content-Type"] = contentType;
      else if (encoded !== undefined) headers["Content-Type"] = encoded.contentType;
    }
    this.headers = headers;
  }

  /** Reads the response into events (`this.emit()`); called once per successful request. */
  protected abstract read(exchange: Exchange, context: HTTPClientContext): Promise<void>;

  async cycle(): Promise<void> {
    this.failedResponses = 0;
    for (;;) {
      let exchange: Exchange | undefined;
      try {
        this.stats.requests++;
        exchange = await send(this.url, { method: this.method, headers: this.headers, body: this.body, timeoutMs: this.timeoutMs, signal: this.signal });
        if (!this.#accepts(exchange.status)) {
          const text = await exchange.drain();
          throw new HTTPStatusError(exchange.status, this.url, { retryAfter: retryAfter(exchange.response.headers.get("retry-after")), body: text });
        }
        this.stats.responses++;
        if (this.failedResponses > 0) this.log.notice("The server answers again", { url: this.url, failures: this.failedResponses });
        this.failedResponses = 0;
        const context: HTTPClientContext = { http_url: this.url, http_status: exchange.status, http_headers: Object.fromEntries(exchange.response.headers) };
        await this.read(exchange, context);
        return;
      } catch (error) {
        exchange?.close();
        if (this.signal.aborted && isStopSignal(error)) throw error;
        if (!(error instanceof HTTPStatusError || error instanceof HTTPConnectionError)) throw error;
        this.failedResponses++;
        this.stats.failures++;
        if (this.failedResponses >= this.maxFailedRetries) {
          this.log.error(`${error.message}, ${this.failedResponses} failed response(s)`, { url: this.url });
          throw error;
        }
        const wait = Math.max(this.failChilldown, error instanceof HTTPStatusError ? (error.retryAfter ?? 0) : 0);
        this.log.warn(`${error.message}, will retry (${this.failedResponses}/${this.maxFailedRetries}) in ${wait} s`, { url: this.url });
        this.pipeline.metrics.warning++;
        await this.sleep(wait);
      }
    }
  }

  /**
   * Hands events to the pipeline with a copy of the response context each, in batches of at most
   * 1000 (each waits for the pipeline to be ready, so one large piece of a body cannot flood a sink).
   */
  protected async emit(events: Out[], context: HTTPClientContext): Promise<void> {
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      const batch = events.length <= MAX_BATCH ? events : events.slice(i, i + MAX_BATCH);
      await this.processBatch(
        batch,
        batch.map(() => ({ ...context })),
      );
      this.stats.events += batch.length;
    }
  }

  /** Reports a body that cannot become events through the pipeline's error handling (soft: counted and skipped). */
  protected malformed(context: HTTPClientContext, raw: unknown, problem: string, cause?: unknown): void {
    this.pipeline.setError(context, raw, new ParseError(this.locateAddress(), `${problem} (from '${this.url}')`, { cause }), this);
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), URL: this.url, Method: this.method, FailedResponses: this.failedResponses, Stats: { ...this.stats } };
  }
}

/** The response body, as bytes (a Buffer), one event per request — BSPump's HTTPClientSource. */
export class HTTPClientSource extends HTTPABCClientSource<Buffer> {
  protected async read(exchange: Exchange, context: HTTPClientContext): Promise<void> {
    await this.emit([await exchange.bytes()], context);
  }
}

/** The charset of a Content-Type, if it names one. */
function charsetOf(contentType: string | null): string | undefined {
  const match = contentType === null ? null : /;\s*charset="?([^";\s]+)"?/i.exec(contentType);
  return match?.[1];
}

/**
 * The response body decoded as text, one event per request — BSPump's HTTPClientTextSource. The
 * `encoding` key, else the response's charset, else UTF-8. A body that does not decode is reported
 * through the pipeline's error handling (a ParseError).
 */
export class HTTPClientTextSource extends HTTPABCClientSource<string> {
  static override ConfigDefaults: ConfigValues = { encoding: "" };

  readonly encoding: string | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, options: HTTPClientSourceOptions = {}) {
    super(app, pipeline, options);
    const encoding = this.config.get("encoding").trim();
    this.encoding = encoding === "" ? undefined : encoding;
    if (this.encoding !== undefined) this.decoder(this.encoding);
  }

  protected decoder(encoding: string): TextDecoder {
    try {
      return new TextDecoder(encoding, { fatal: true });
    } catch (error) {
      throw new ConfigError(`unknown encoding '${encoding}'`, { section: this.config.section, key: "encoding" }, "PUMP_CONFIG_VALUE", { cause: error });
    }
  }

  protected decoderFor(exchange: Exchange, context: HTTPClientContext): TextDecoder | undefined {
    const encoding = this.encoding ?? charsetOf(exchange.response.headers.get("content-type")) ?? "utf-8";
    try {
      return new TextDecoder(encoding, { fatal: true });
    } catch (error) {
      this.malformed(context, undefined, `unknown charset '${encoding}'`, error);
      return undefined;
    }
  }

  protected async read(exchange: Exchange, context: HTTPClientContext): Promise<void> {
    const decoder = this.decoderFor(exchange, context);
    const body = await exchange.bytes();
    if (decoder === undefined) return;
    let text: string;
    try {
      text = decoder.decode(body);
    } catch (error) {
      this.malformed(context, body, `the body is not valid ${decoder.encoding}`, error);
      return;
    }
    await this.emit([text], context);
  }
}

/**
 * One event per line of the response body — BSPump's HTTPClientLineSource: lines split on "\n" and
 * right-stripped (so "\r\n" works), no event for the empty remainder after a final newline. The body
 * is streamed: a large response goes through the pipeline piece by piece, and waits while it is not
 * ready. Lines of a piece that does not decode are reported (a ParseError) and skipped.
 */
export class HTTPClientLineSource extends HTTPClientTextSource {
  protected override async read(exchange: Exchange, context: HTTPClientContext): Promise<void> {
    const decoder = this.decoderFor(exchange, context);
    if (decoder === undefined) {
      await exchange.drain();
      return;
    }
    const streaming = new TextDecoder(decoder.encoding, { fatal: true });
    let rest = "";
    for await (const chunk of exchange.chunks()) {
      let text: string;
      try {
        text = streaming.decode(chunk, { stream: true });
      } catch (error) {
        // The rest of the body is dropped (leaving the loop cancels it): its lines cannot be told apart.
        this.malformed(context, Buffer.from(chunk), `the body is not valid ${decoder.encoding}`, error);
        return;
      }
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      await this.emit(lines.map((line) => line.trimEnd()), context);
    }
    try {
      rest += streaming.decode();
    } catch (error) {
      this.malformed(context, undefined, `the body ends inside a ${decoder.encoding} character`, error);
    }
    if (rest.length > 0) await this.emit([rest.trimEnd()], context);
  }
}

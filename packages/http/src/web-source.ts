import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { DELIVERY, Delivery, Source, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { HTTPBodyError } from "./errors.js";
import { choice, listenAddress, positive } from "./options.js";
import { ListenSlot, normalizePath, pathOf, reply, type RequestHandler, type RoutedRequest, type WebRouter } from "./web.js";

/** How a request body becomes events. */
export type WebServiceFormat = "bytes" | "text" | "json" | "ndjson" | "lines";

const FORMATS: readonly WebServiceFormat[] = ["bytes", "text", "json", "ndjson", "lines"];

/** What a WebServiceSource puts beside each event (BSPump's `webservicesource.*` keys). */
export interface WebServiceContext extends Context {
  "webservicesource.remote": string | undefined;
  "webservicesource.path": string;
  "webservicesource.query": Record<string, string>;
  "webservicesource.headers": IncomingMessage["headers"];
  "webservicesource.secure": boolean;
  "webservicesource.method": string;
  "webservicesource.url": string;
  "webservicesource.scheme": "http" | "https";
  "webservicesource.host": string | undefined;
  "webservicesource.forwarded": string | undefined;
  "webservicesource.content_type": string | undefined;
  "webservicesource.charset": string | undefined;
}

export interface WebServiceSourceStats {
  requests: number;
  /** Requests answered 200: every event settled without a failure. */
  accepted: number;
  events: number;
  /** Requests refused because the pipeline stayed throttled (429) or in error or stopping (503) past `wait_timeout`. */
  refused: number;
  /** Request bodies that could not become events (400, 413, 415). */
  malformed: number;
  /** Requests whose events failed (500) or did not settle within `delivery_timeout` (504). */
  failed: number;
}

/** Rejects a body read when the client went away before sending it all. */
const CLIENT_GONE = Symbol("client gone");

/** Thrown inside the source when a body cannot be taken; becomes the answer. */
function bodyError(status: number, message: string, cause?: unknown): HTTPBodyError {
  return new HTTPBodyError(message, status, cause === undefined ? undefined : { cause });
}

/**
 * BSPump's WebServiceSource: events from the bodies of HTTP requests (webhooks, ingest endpoints),
 * answered only once the pipeline took them — every event's delivery settled (a buffering sink
 * confirms once its server did). Backpressure so reaches the client as a later answer; while the
 * pipeline is throttled or in error for longer than `wait_timeout` seconds, the request is refused
 * with 429 (throttled) or 503 (in error, or stopping) and a `Retry-After`, and nothing is taken.
 *
 * A body becomes events by `format`: `bytes` (the body as one Buffer, as BSPump), `text` (decoded by
 * its charset, UTF-8 by default), `json` (one parsed value), `ndjson` (one parsed value per non-empty
 * line) or `lines` (one string per line). A body that cannot (too large, not valid JSON, not valid
 * text) is answered 400/413 and reported through the pipeline's error handling: with a soft
 * `handleError` it is counted as a warning and the pipeline goes on. All or nothing: a request with
 * one bad line takes none of its events.
 *
 * Answers (JSON): 200 `{"result":"OK","events":n}`; 500 when a sink gave up on its events (a hard
 * pipeline error); 504 when they did not settle within `delivery_timeout` (they may still be delivered:
 * a client that sends again gets them at least once).
 *
 * Mounting: with `listen` set ("127.0.0.1:8080"; a port alone binds 127.0.0.1) the source serves
 * `path` on its own listener while it runs; else mount `source.handler` on a web server —
 * `source.mount(app.web, "/ingest")` on a router with `route(method, path, handler)`, or
 * `http.createServer(source.handler)`.
 */
export class WebServiceSource<Out = unknown> extends Source<Out> {
  static override ConfigDefaults: ConfigValues = {
    listen: "", // own listener ("127.0.0.1:8080"); "" = mounted on a web server with mount()/handler
    path: "/", // the path served on the own listener
    method: "POST", // methods taken, e.g. "POST PUT"
    format: "bytes", // bytes | text | json | ndjson | lines
    max_body_size: 1048576, // bytes; a larger body is answered 413
    wait_timeout: 10, // seconds a request waits for a throttled pipeline before 429/503
    delivery_timeout: 60, // seconds a request waits for its events to settle before 504
  };

  readonly format: WebServiceFormat;
  readonly path: string;
  readonly methods: readonly string[];
  readonly maxBodySize: number;
  readonly waitTimeout: number;
  readonly deliveryTimeout: number;
  readonly stats: WebServiceSourceStats = { requests: 0, accepted: 0, events: 0, refused: 0, malformed: 0, failed: 0 };
  readonly #listen: { host: string; port: number } | undefined;
  readonly #slot = new ListenSlot();
  #requestIds = 0;
  /** A request is handing its events over; the others wait their turn in `#turns`. */
  #busy = false;
  readonly #turns: (() => void)[] = [];

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    this.format = choice(config, "format", FORMATS);
    this.path = normalizePath(config.get("path"));
    this.methods = config
      .get("method")
      .split(/[\s,]+/)
      .filter((m) => m !== "")
      .map((m) => m.toUpperCase());
    this.maxBodySize = positive(config, "max_body_size", { integer: true });
    this.waitTimeout = positive(config, "wait_timeout", { seconds: true, allowZero: true });
    this.deliveryTimeout = positive(config, "delivery_timeout", { seconds: true });
    this.#listen = config.get("listen").trim() === "" ? undefined : listenAddress(config, "listen");
  }

  /** The Node request listener (BSPump's aiohttp handler): mount it on any web server or router. */
  readonly handler: RequestHandler = (request, response) => {
    this.#handle(request, response).catch((error: unknown) => {
      this.log.error("Request handling failed", { error });
      reply(response, 500, { result: "FAILED", error: error instanceof Error ? error.message : String(error) });
    });
  };

  /**
   * Mounts the source on a router (the application's web server, `WebServer.of(app)`) at `path`, for
   * each of `method`. `auth` is passed to the router (core's web server asks for its `[web] token` on
   * POST routes by default).
   */
  mount(router: WebRouter, path = this.path, options: { auth?: boolean | undefined } = {}): this {
    const handler = (request: RoutedRequest): Promise<void> =>
      this.#handle(request.raw, request.response).catch((error: unknown) => {
        this.log.error("Request handling failed", { error });
        reply(request.response, 500, { result: "FAILED", error: error instanceof Error ? error.message : String(error) });
      });
    for (const method of this.methods) router.route(method, normalizePath(path), handler, options);
    return this;
  }

  /** Where the own listener listens, once it does (`listen` set); rejects if it could not. */
  listening(): Promise<AddressInfo> {
    return this.#slot.listening();
  }

  async main(): Promise<void> {
    if (this.#listen !== undefined) await this.#slot.open(this.#listen, this.path, this.handler, undefined, this.log);
    try {
      await this.stopped();
    } finally {
      // Requests under way still get their answers (the pipeline settles them as it stops).
      this.#slot.close();
    }
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.stats.requests++;
    const method = (request.method ?? "GET").toUpperCase();
    if (!this.methods.includes(method)) {
      request.resume();
      reply(response, 405, { result: "METHOD-NOT-ALLOWED" }, { Allow: this.methods.join(", ") });
      return;
    }
    if (!this.running) {
      request.resume();
      this.stats.refused++;
      reply(response, 503, { result: "UNAVAILABLE", error: "the source is not running" }, { "Retry-After": "1" });
      return;
    }
    const context = this.#context(request);
    let events: Out[];
    let body: Buffer | undefined;
    try {
      body = await this.#readBody(request);
      events = this.#parse(body, context);
    } catch (error) {
      if (error === CLIENT_GONE) {
        this.log.debug("The client went away before its body was read", { remote: context["webservicesource.remote"] });
        return;
      }
      if (!(error instanceof HTTPBodyError)) throw error;
      this.stats.malformed++;
      if (error.status === 413) response.setHeader("Connection", "close");
      reply(response, error.status, { result: "MALFORMED", error: error.message });
      this.pipeline.setError({ ...context }, body, error, this);
      return;
    }

    // Requests hand their events over one at a time, each waiting for the pipeline to be ready (at
    // most until `wait_timeout` after it arrived): many clients woken at once must not all slip past a throttle.
    const settled = Promise.withResolvers<unknown>();
    const delivery = new Delivery<number>((_d, error) => settled.resolve(error), ++this.#requestIds);
    if (events.length > 1) delivery.hold(events.length - 1);
    const deadline = performance.now() + this.waitTimeout * 1000;
    const admitted = await this.#handOver(deadline, async () => {
      const state = await this.#admit(deadline);
      if (state !== "ready" || events.length === 0) return state;
      const contexts: Context[] = events.map(() => ({ ...context, [DELIVERY]: delivery }));
      try {
        await this.processBatch(events, contexts);
        return "taken" as const;
      } catch (error) {
        // Rejected before the pipeline took the batch (it is stopping): nobody else settles it.
        for (let i = 0; i < events.length; i++) delivery.fail(error);
        return "stopped" as const;
      }
    });
    if (admitted !== "ready" && admitted !== "taken") {
      this.stats.refused++;
      const status = admitted === "throttled" ? 429 : 503;
      const why = admitted === "throttled" ? "the pipeline is busy" : admitted === "error" ? "the pipeline is stopped by an error" : "the pump is stopping";
      reply(response, status, { result: admitted === "throttled" ? "BUSY" : "UNAVAILABLE", error: why }, { "Retry-After": String(Math.max(1, Math.ceil(this.waitTimeout))) });
      return;
    }
    if (events.length === 0) {
      this.stats.accepted++;
      reply(response, 200, { result: "OK", events: 0 });
      return;
    }
    this.stats.events += events.length;
    const timer = new AbortController();
    const outcome = await Promise.race([
      settled.promise.then((error) => ({ error })),
      delay(this.deliveryTimeout * 1000, "timeout" as const, { signal: timer.signal }).catch(() => "timeout" as const),
    ]);
    timer.abort();
    if (outcome === "timeout") {
      this.stats.failed++;
      reply(response, 504, { result: "TIMEOUT", error: `the events were not confirmed within ${this.deliveryTimeout} s`, events: events.length });
    } else if (outcome.error !== undefined) {
      this.stats.failed++;
      reply(response, 500, { result: "FAILED", error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error), events: events.length });
    } else {
      this.stats.accepted++;
      reply(response, 200, { result: "OK", events: events.length });
    }
  }

  /**
   * Runs `work` once the requests before this one handed their events over, unless that takes until
   * `deadline` (a batch held up by a hard error holds up the turn): then the request is refused.
   */
  async #handOver<T>(deadline: number, work: () => Promise<T>): Promise<T | "throttled" | "error"> {
    if (this.#busy) {
      const turn = Promise.withResolvers<boolean>();
      const take = (): void => turn.resolve(true);
      this.#turns.push(take);
      const timer = setTimeout(() => {
        const at = this.#turns.indexOf(take);
        if (at !== -1) this.#turns.splice(at, 1);
        turn.resolve(false);
      }, Math.max(0, deadline - performance.now()));
      const mine = await turn.promise;
      clearTimeout(timer);
      if (!mine) return this.pipeline.isError() ? "error" : "throttled";
    }
    this.#busy = true;
    try {
      return await work();
    } finally {
      const next = this.#turns.shift();
      if (next !== undefined) next();
      else this.#busy = false;
    }
  }

  /** Waits for the pipeline to be ready, at most until `deadline` (performance.now() milliseconds). */
  async #admit(deadline: number): Promise<"ready" | "throttled" | "error" | "stopped"> {
    if (!this.running) return "stopped";
    if (this.pipeline.isReady()) return "ready";
    const left = deadline - performance.now();
    if (left <= 0) return this.pipeline.isError() ? "error" : "throttled";
    const timer = new AbortController();
    const outcome = await Promise.race([
      this.pipeline.ready().then(
        () => "ready" as const,
        () => "stopped" as const,
      ),
      this.stopped().then(() => "stopped" as const),
      delay(left, "timeout" as const, { signal: timer.signal }).catch(() => "timeout" as const),
    ]);
    timer.abort();
    if (outcome !== "timeout") return outcome;
    return this.pipeline.isError() ? "error" : "throttled";
  }

  #readBody(request: IncomingMessage): Promise<Buffer> {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > this.maxBodySize) {
      request.resume();
      return Promise.reject(bodyError(413, `the body has ${declared} bytes, more than max_body_size (${this.maxBodySize})`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      request.on("data", (chunk: Buffer) => {
        if (tooLarge) return;
        size += chunk.length;
        if (size > this.maxBodySize) {
          tooLarge = true;
          reject(bodyError(413, `the body has more than max_body_size (${this.maxBodySize}) bytes`));
          return;
        }
        chunks.push(chunk);
      });
      request.on("end", () => resolve(Buffer.concat(chunks, size)));
      // A client that goes away before its body is in: nothing to answer, nothing to report.
      request.on("error", () => reject(CLIENT_GONE));
      request.on("close", () => {
        if (!request.complete) reject(CLIENT_GONE);
      });
    });
  }

  #parse(body: Buffer, context: Context): Out[] {
    if (this.format === "bytes") return [body as Out];
    const charset = (context["webservicesource.charset"] as string | undefined) ?? "utf-8";
    let text: string;
    try {
      text = new TextDecoder(charset, { fatal: true }).decode(body);
    } catch (error) {
      throw error instanceof RangeError && /encoding/i.test(error.message)
        ? bodyError(415, `unknown charset '${charset}'`, error)
        : bodyError(400, `the body is not valid ${charset}`, error);
    }
    switch (this.format) {
      case "text":
        return [text as Out];
      case "json":
        try {
          return [JSON.parse(text) as Out];
        } catch (error) {
          throw bodyError(400, `the body is not valid JSON: ${(error as Error).message}`, error);
        }
      case "lines":
      case "ndjson": {
        const lines = text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        if (this.format === "lines") return lines.map((line) => line.trimEnd() as Out);
        const events: Out[] = [];
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i]!.trim();
          if (line === "") continue;
          try {
            events.push(JSON.parse(line) as Out);
          } catch (error) {
            throw bodyError(400, `line ${i + 1} is not valid JSON: ${(error as Error).message}`, error);
          }
        }
        return events;
      }
    }
  }

  #context(request: IncomingMessage): WebServiceContext {
    const secure = (request.socket as { encrypted?: boolean }).encrypted === true;
    const host = request.headers.host;
    const contentType = request.headers["content-type"];
    const charset = contentType === undefined ? undefined : /;\s*charset="?([^";\s]+)"?/i.exec(contentType)?.[1];
    const url = new URL(request.url ?? "/", `${secure ? "https" : "http"}://${host ?? "localhost"}`);
    return {
      "webservicesource.remote": request.socket.remoteAddress,
      "webservicesource.path": pathOf(request),
      "webservicesource.query": Object.fromEntries(url.searchParams),
      "webservicesource.headers": request.headers,
      "webservicesource.secure": secure,
      "webservicesource.method": (request.method ?? "GET").toUpperCase(),
      "webservicesource.url": url.href,
      "webservicesource.scheme": secure ? "https" : "http",
      "webservicesource.host": host,
      "webservicesource.forwarded": request.headers.forwarded,
      "webservicesource.content_type": contentType?.split(";")[0]?.trim(),
      "webservicesource.charset": charset,
    };
  }

  override restGet(): Record<string, unknown> {
    const address = this.#slot.server?.address();
    return { ...super.restGet(), Format: this.format, Path: this.path, ...(address ? { Listen: address } : {}), Stats: { ...this.stats } };
  }
}

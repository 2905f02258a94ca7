import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { PumpApplication } from "../application/application.js";
import { ConfigError, type ConfigLocation } from "../errors.js";
import type { Logger } from "../logger.js";
import { registerPumpApi } from "./api.js";
import { HttpError, JSON_CONTENT_TYPE, WebRequest, WebResponse } from "./http.js";
import { WebRouter, splitPath } from "./router.js";

/**
 * A route's handler. It returns a plain value (sent as JSON, 200), a `WebResponse`, or undefined
 * (204, unless it wrote `request.response` itself, e.g. a Server-Sent Events stream: such a stream
 * is ended when the server closes). It throws `HttpError` for a 4xx/5xx answer; anything else it
 * throws is logged and answered 500 with no details.
 */
/** Takes over the socket of an HTTP upgrade request (a WebSocket server's `handleUpgrade`). */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export type WebHandler = (request: WebRequest) => unknown;

export interface RouteOptions {
  /**
   * Require `Authorization: Bearer <[web] token>` when a token is configured (401 without it, 403
   * with a wrong one). Defaults to true for every method but GET and HEAD.
   */
  auth?: boolean | undefined;
}

interface Route {
  handler: WebHandler;
  auth: boolean;
}

/** Where `[web] listen` says to serve. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** In-flight requests get this long to finish when the server closes; then their connections are cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * `[web] listen` (or `-w`): `HOST:PORT`, `[IPv6]:PORT`, `HOST PORT` (as ASAB writes it) or just
 * `PORT`, which serves on 127.0.0.1 only. Port 0 picks a free port.
 */
export function parseListen(value: string, location: ConfigLocation = { section: "web", key: "listen" }): ListenAddress {
  const text = value.trim();
  const match = /^(\d+)$/.exec(text) ?? /^\[([0-9A-Fa-f:.%\w]+)\]:(\d+)$/.exec(text) ?? /^([^\s:[\]]+)(?::|\s+)(\d+)$/.exec(text);
  if (match === null) {
    throw new ConfigError(`invalid listen address '${value}' (expected HOST:PORT, [IPv6]:PORT or PORT)`, location, "PUMP_CONFIG_VALUE");
  }
  const host = match[2] === undefined ? "127.0.0.1" : match[1]!;
  const port = Number(match[2] ?? match[1]);
  if (!Number.isSafeInteger(port) || port > 65535) throw new ConfigError(`invalid port in listen address '${value}' (0 to 65535)`, location, "PUMP_CONFIG_VALUE");
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Compares in constant time, whatever the lengths (both are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "Bad percent-encoding in the path");
  }
  if (decoded === "." || decoded === "..") throw new HttpError(400, "Dot segments are not allowed in the path");
  return decoded;
}

/** `?pretty`, `?pretty=true`, `?pretty=1` indent JSON answers (as BSPump's json_response does). */
function wantsPretty(query: URLSearchParams): boolean {
  const value = query.get("pretty");
  return value !== null && value !== "false" && value !== "0";
}

const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

const servers = new WeakMap<PumpApplication, WebServer>();

/**
 * The HTTP listener of a pump, with node:http only: a small router (method + path with `:params`)
 * that the BSPump REST API is mounted on and that other packages extend with `route()`, JSON
 * answers with proper status codes, and a clean close — keep-alive connections and streams too —
 * so that `app.run()` resolves and the process can exit. Get it with `WebServer.of(app)`; the
 * application starts it in `run()` when `[web] listen` (or `-w ADDR`) is set, and closes it when it
 * stops.
 */
export class WebServer {
  readonly app: PumpApplication;
  readonly log: Logger;
  readonly #router = new WebRouter<Route>();
  readonly #upgrades = new Map<string, UpgradeHandler>();
  #server: Server | undefined;
  #starting: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #startedAt: Date | undefined;
  #token: string | undefined;
  #closing = false;
  /** Responses not finished yet; a stream is one whose handler returned while it stays open. */
  readonly #open = new Set<ServerResponse>();
  readonly #streams = new Set<ServerResponse>();
  #drained: PromiseWithResolvers<void> | undefined;

  /** The application's web server, made (with the BSPump REST API on it) on first use. */
  static of(app: PumpApplication): WebServer {
    let server = servers.get(app);
    if (server === undefined) {
      server = new WebServer(app);
      registerPumpApi(server);
      servers.set(app, server);
      app.registerService("bspump.WebServer", server);
    }
    return server;
  }

  /** A server without routes; `WebServer.of(app)` is the application's, with the REST API. */
  constructor(app: PumpApplication) {
    this.app = app;
    this.log = app.log.child({}, "bspump.web");
  }

  /** Adds a route (see `WebHandler`, `RouteOptions`); returns a function that removes it. */
  route(method: string, pattern: string, handler: WebHandler, options: RouteOptions = {}): () => void {
    const upper = method.toUpperCase();
    return this.#router.add(upper, pattern, { handler, auth: options.auth ?? !(upper === "GET" || upper === "HEAD") });
  }

  /** The routes, as "METHOD pattern". */
  /**
   * Takes HTTP upgrades (WebSocket handshakes) for one path, e.g. a WebSocketSource at "/bspump/ws".
   * Upgrades to other paths are answered 404. Returns a function that removes the handler.
   */
  upgrade(path: string, handler: UpgradeHandler): () => void {
    if (this.#upgrades.has(path)) throw new ConfigError(`an upgrade handler for '${path}' is already mounted`, { section: "web" });
    this.#upgrades.set(path, handler);
    return () => {
      if (this.#upgrades.get(path) === handler) this.#upgrades.delete(path);
    };
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = request.url ?? "/";
    const query = url.indexOf("?");
    const handler = this.#closing ? undefined : this.#upgrades.get(query < 0 ? url : url.slice(0, query));
    if (handler !== undefined) {
      handler(request, socket, head);
      return;
    }
    socket.end(`HTTP/1.1 ${this.#closing ? "503 Service Unavailable" : "404 Not Found"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  routes(): string[] {
    return this.#router.list();
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** The bound address while listening (the real port when `[web] listen` asked for port 0). */
  get address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return typeof address === "object" && address !== null ? address : undefined;
  }

  /** `http://host:port` while listening. */
  get url(): string | undefined {
    const address = this.address;
    if (address === undefined) return undefined;
    return `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  }

  /** When the server last started listening. */
  get startedAt(): Date | undefined {
    return this.#startedAt;
  }

  /**
   * Listens on `[web] listen`. Rejects with a ConfigError for a bad address or an empty token, or
   * with Node's error (EADDRINUSE, EACCES...) when it cannot listen. Does nothing while listening.
   */
  start(): Promise<void> {
    return (this.#starting ??= this.#start().finally(() => (this.#starting = undefined)));
  }

  async #start(): Promise<void> {
    await this.#closed;
    if (this.#server !== undefined) return;
    const config = this.app.config;
    const value = config.get("web", "listen");
    if (value === undefined) throw new ConfigError("no address to listen on", { section: "web", key: "listen" }, "PUMP_CONFIG_MISSING");
    const { host, port } = parseListen(value, config.locate("web", "listen"));
    const token = config.get("web", "token");
    if (token?.trim() === "") throw new ConfigError("the token is empty (remove the key to serve without one)", config.locate("web", "token"), "PUMP_CONFIG_VALUE");
    this.#token = token?.trim();

    // node:http is loaded here, not with the package: a pump that serves nothing is ~16 MiB lighter
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => this.log.error("Web server error", { error }));
    this.#server = server;
    this.#closing = false;
    this.#startedAt = new Date();
    this.log.notice("Web API listening", { url: this.url });
    if (this.#token === undefined && !isLoopback(host)) {
      this.log.warn("The web API listens beyond this host without a [web] token: anyone who reaches it may clear pipeline errors", { listen: value });
    }
  }

  /**
   * Stops listening, ends streams, gives requests in progress a moment to finish, then closes every
   * connection (idle keep-alive ones at once). Resolves when the server is closed.
   */
  close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    return (this.#closed ??= this.#close(server));
  }

  async #close(server: Server): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const stream of this.#streams) stream.end();
    if (this.#open.size > 0) {
      this.#drained = Promise.withResolvers<void>();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#drained.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      this.#drained = undefined;
    }
    server.closeAllConnections();
    await closed;
    this.#server = undefined;
    this.#closed = undefined;
    this.#open.clear();
    this.#streams.clear();
    this.log.notice("Web API closed");
  }

  /** Throws 401/403 unless the request carries the configured `[web] token` (constant-time compare). */
  authorize(request: WebRequest): void {
    const token = this.#token;
    if (token === undefined) return;
    const header = request.headers.authorization;
    const bearer = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (bearer === null) throw new HttpError(401, "Authorization: Bearer <token> is required", { "www-authenticate": 'Bearer realm="bspump"' });
    if (!sameSecret(bearer[1]!, token)) throw new HttpError(403, "The token is not valid");
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#open.add(res);
    res.once("close", () => {
      this.#open.delete(res);
      this.#streams.delete(res);
      if (this.#open.size === 0) this.#drained?.resolve();
    });
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
    const pretty = wantsPretty(query);
    let pattern: string | undefined;
    try {
      if (this.#closing) throw new HttpError(503, "The pump is stopping", { connection: "close" });
      if (!rawPath.startsWith("/")) throw new HttpError(400, "The request target must be a path");
      const parts = splitPath(rawPath).map(decodeSegment);
      const found = this.#router.lookup(method, parts);
      if (!found.found) {
        if (found.allowed.length === 0) throw new HttpError(404, "Not found");
        throw new HttpError(405, `Method ${method} is not allowed here`, { allow: found.allowed.join(", ") });
      }
      const { handler, params } = found.match;
      pattern = found.match.pattern;
      const request = new WebRequest(req, res, method, `/${parts.join("/")}`, params, query);
      if (handler.auth) this.authorize(request);
      const result: unknown = await handler.handler(request);
      if (res.headersSent || res.writableEnded) {
        // The handler answered by itself; one that left the response open streams until it or the server ends it.
        if (!res.writableEnded) this.#streams.add(res);
        return;
      }
      if (result === undefined) this.#send(res, new WebResponse(204), pretty);
      else this.#send(res, result instanceof WebResponse ? result : WebResponse.json(result), pretty);
      this.log.debug("HTTP request", { method, path: rawPath, status: res.statusCode });
    } catch (error) {
      this.#fail(res, method, rawPath, pattern, error, pretty);
    }
  }

  #fail(res: ServerResponse, method: string, path: string, pattern: string | undefined, error: unknown, pretty: boolean): void {
    const status = error instanceof HttpError ? error.status : 500;
    // An HttpError is an answer the handler chose; anything else is a failure, logged with its stack.
    if (error instanceof HttpError) this.log.debug("HTTP request answered with an error", { method, path, status, reason: error.message });
    else this.log.error("Web request failed", { method, path, route: pattern, error });
    if (res.headersSent) {
      res.destroy(); // a partial answer cannot be turned into an error any more
      return;
    }
    const message = error instanceof HttpError ? error.message : "Internal Server Error";
    const headers = error instanceof HttpError ? error.headers : {};
    try {
      this.#send(res, WebResponse.json({ error: message, status }, status, headers), pretty);
    } catch (sendError) {
      this.log.error("Web error answer failed", { method, path, error: sendError });
      res.destroy();
    }
  }

  /** Throws when a JSON value cannot be serialized (before anything is written). */
  #send(res: ServerResponse, response: WebResponse, pretty: boolean): void {
    let body = response.body;
    const headers: Record<string, string | number> = { ...COMMON_HEADERS };
    if (response.json !== undefined) {
      body = `${JSON.stringify(response.json.value, null, pretty ? 2 : undefined) ?? "null"}\n`;
      headers["content-type"] = JSON_CONTENT_TYPE;
    }
    Object.assign(headers, response.headers);
    if (body !== undefined) headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    res.writeHead(response.status, headers);
    res.end(body);
  }
}

/**
 * What `app.run()` calls once its pipelines started: serves the REST API when `[web] listen` is set.
 * A failure to listen is logged and stops the pump with exit code 1. Resolves the running server,
 * for `run()` to close when the pump stops.
 */
export async function startWebApi(app: PumpApplication): Promise<WebServer | undefined> {
  const listen = app.config.get("web", "listen");
  if (listen === undefined) return undefined;
  const web = WebServer.of(app);
  try {
    await web.start();
    return web;
  } catch (error) {
    web.log.error("The web API cannot start: stopping", { listen, error });
    app.stop(1);
    return undefined;
  }
}

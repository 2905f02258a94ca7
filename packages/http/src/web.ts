import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { UsageError, type Logger } from "@pump/core";

/** A Node request listener: what `http.createServer()` and most routers take. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** A Node `upgrade` listener: what a WebSocket endpoint needs from a web server. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A request as the application's web server hands it to a route: Node's request and response. */
export interface RoutedRequest {
  readonly raw: IncomingMessage;
  readonly response: ServerResponse;
}

/**
 * A router a source can mount on: the shape of the application's web server (`WebServer.of(app)` of
 * @pump/core: `route(method, pattern, handler, { auth })`, the handler answering on `response` itself).
 */
export interface WebRouter {
  route(method: string, path: string, handler: (request: RoutedRequest) => unknown, options?: { auth?: boolean | undefined }): unknown;
}

/** A router that can also hand over WebSocket upgrades for a path. */
export interface UpgradeRouter {
  upgrade(path: string, handler: UpgradeHandler): unknown;
}

/** Where a WebSocketSource can be mounted: a router taking upgrades, a Node http(s) server, or an object exposing one as `server`. */
export type UpgradeTarget = UpgradeRouter | NodeServer | { readonly server: NodeServer };

/** A Node http or https server (https.Server is not an http.Server subclass): something with `listen` that emits `upgrade`. */
export type NodeServer = Pick<Server, "on" | "off" | "listen">;

function isNodeServer(value: unknown): value is NodeServer {
  return value instanceof EventEmitter && typeof (value as { listen?: unknown }).listen === "function";
}

/** The path of a request, without its query. */
export function pathOf(request: IncomingMessage): string {
  const url = request.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** Normalizes a configured path: a leading "/", no trailing one (except for "/" itself). */
export function normalizePath(path: string): string {
  const trimmed = path.trim();
  const withSlash = trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, "") : withSlash;
}

/** Answers with a JSON body. */
export function reply(response: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

/** Refuses an upgrade on a raw socket with a plain HTTP answer. */
export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines = [`HTTP/1.1 ${status} ${message}`, "Connection: close", "Content-Type: text/plain", `Content-Length: ${Buffer.byteLength(message)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join("\r\n")}\r\n\r\n${message}`);
}

/**
 * A source's own listener (its `listen` key): a Node http server bound to the address, serving
 * `request` and `upgrade` on one path and 404 elsewhere.
 */
export class OwnListener {
  readonly server: Server;
  readonly #path: string;
  /** Responses not yet sent: told to close their connection when the listener closes. */
  readonly #unanswered = new Set<ServerResponse>();
  #closing = false;

  constructor(path: string, onRequest: RequestHandler | undefined, onUpgrade: UpgradeHandler | undefined) {
    this.#path = path;
    this.server = createServer((request, response) => {
      if (this.#closing) response.setHeader("Connection", "close");
      else {
        this.#unanswered.add(response);
        response.once("close", () => this.#unanswered.delete(response));
      }
      if (onRequest !== undefined && pathOf(request) === this.#path) onRequest(request, response);
      else reply(response, 404, { result: "NOT-FOUND", path: pathOf(request) });
    });
    this.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (onUpgrade !== undefined && pathOf(request) === this.#path) onUpgrade(request, socket, head);
      else refuseUpgrade(socket, 404, "Not Found");
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections and drops idle ones; requests under way finish, their connections closed
   * after the answer — kept alive, a client's next request would reach this closed listener, not the
   * next one on the port.
   */
  close(): void {
    this.#closing = true;
    for (const response of this.#unanswered) if (!response.headersSent) response.setHeader("Connection", "close");
    this.server.close();
    this.server.closeIdleConnections();
  }
}

/** A promise of an address, whose rejection alone is not an unhandled one. */
function pendingAddress(): PromiseWithResolvers<AddressInfo> {
  const address = Promise.withResolvers<AddressInfo>();
  address.promise.catch(() => {});
  return address;
}

/**
 * A source's own listener (its `listen` key) while the source runs, and the address it is bound to,
 * which `listening()` resolves once it listens (or rejects, when it cannot: EADDRINUSE...).
 */
export class ListenSlot {
  #address = pendingAddress();
  #listener: OwnListener | undefined;

  listening(): Promise<AddressInfo> {
    return this.#address.promise;
  }

  get server(): Server | undefined {
    return this.#listener?.server;
  }

  async open(at: { host: string; port: number }, path: string, onRequest: RequestHandler | undefined, onUpgrade: UpgradeHandler | undefined, log: Logger): Promise<void> {
    const listener = new OwnListener(path, onRequest, onUpgrade);
    try {
      const address = await listener.listen(at.host, at.port);
      log.info("Listening", { address: `${address.address}:${address.port}`, path });
      this.#listener = listener;
      this.#address.resolve(address);
    } catch (error) {
      this.#address.reject(error);
      this.#address = pendingAddress();
      throw error;
    }
  }

  /** Stops listening (requests under way still get their answers); `listening()` waits for the next `open()`. */
  close(): void {
    this.#listener?.close();
    if (this.#listener !== undefined) this.#address = pendingAddress();
    this.#listener = undefined;
  }
}

/** Attaches an upgrade handler for one path to a target (see UpgradeTarget); returns a function that detaches it. */
export function mountUpgrade(target: UpgradeTarget, path: string, handler: UpgradeHandler): () => void {
  if (typeof (target as UpgradeRouter).upgrade === "function") {
    (target as UpgradeRouter).upgrade(path, handler);
    return () => {};
  }
  const server = isNodeServer(target) ? target : (target as { server?: unknown }).server;
  if (!isNodeServer(server)) {
    throw new UsageError("Cannot mount a WebSocket endpoint: give a Node http(s) server, an object with a 'server', or a router with upgrade(path, handler)");
  }
  const listener = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(request) === path) handler(request, socket, head);
  };
  server.on("upgrade", listener);
  return () => server.off("upgrade", listener);
}

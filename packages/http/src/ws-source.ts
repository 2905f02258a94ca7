import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { isStopSignal, Source, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { listenAddress, positive } from "./options.js";
import { ListenSlot, mountUpgrade, normalizePath, refuseUpgrade, type UpgradeHandler, type UpgradeTarget } from "./web.js";

/** What a WebSocketSource puts beside each event (BSPump's `type` and `request`, and the socket to answer on). */
export interface WebSocketContext extends Context {
  /** "text" or "binary" (BSPump's WSMsgType). */
  type: "text" | "binary";
  /** The HTTP request that opened the socket (headers, URL, remote address). */
  request: IncomingMessage;
  /** The socket the message came on: a processor may `send()` an answer on it. */
  websocket: WebSocket;
}

export interface WebSocketSourceStats {
  /** Sockets accepted. */
  connections: number;
  /** Sockets open now. */
  open: number;
  messages: number;
  /** Times a socket's reading was paused because the pipeline was not ready or its queue was full. */
  paused: number;
  /** Upgrades refused because the source was not running. */
  refused: number;
}

interface Peer {
  socket: WebSocket;
  request: IncomingMessage;
  queue: { data: Buffer | string; binary: boolean }[];
  pumping: boolean;
  paused: boolean;
}

/**
 * BSPump's WebSocketSource: the server side of WebSocket connections; each text message becomes a
 * string event, each binary message a Buffer (context: `type`, `request`, `websocket`).
 *
 * Messages of a socket go to the pipeline in order, in batches. While the pipeline is not ready, or
 * more than `queue_max_size` messages of a socket wait, the socket's reading is paused: the client's
 * sends back up over TCP, so a slow pipeline slows its producers and memory stays bounded. WebSocket has
 * no acknowledgement, so these events carry no delivery. On stop every socket is closed (1001).
 *
 * Mounting: with `listen` set the source serves `path` on its own listener while it runs; else mount
 * it on a web server: `source.mount(server, "/bspump/ws")` with a Node http(s) server, an object
 * exposing one as `server` (the application's web server), or a router with `upgrade(path, handler)`;
 * `source.handler` is the raw `upgrade` listener.
 */
export class WebSocketSource extends Source<Buffer | string> {
  static override ConfigDefaults: ConfigValues = {
    listen: "", // own listener ("127.0.0.1:8080"); "" = mounted with mount()
    path: "/bspump/ws", // the path served on the own listener
    queue_max_size: 100, // messages a socket may have waiting before its reading is paused
    max_message_size: 16777216, // bytes; a larger message closes the socket (1009)
  };

  readonly path: string;
  readonly queueMaxSize: number;
  readonly stats: WebSocketSourceStats = { connections: 0, open: 0, messages: 0, paused: 0, refused: 0 };
  readonly #server: WebSocketServer;
  readonly #peers = new Set<Peer>();
  readonly #listen: { host: string; port: number } | undefined;
  readonly #unmount: (() => void)[] = [];
  readonly #slot = new ListenSlot();

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    this.path = normalizePath(config.get("path"));
    this.queueMaxSize = positive(config, "queue_max_size", { integer: true });
    const maxPayload = positive(config, "max_message_size", { integer: true });
    this.#listen = config.get("listen").trim() === "" ? undefined : listenAddress(config, "listen");
    this.#server = new WebSocketServer({ noServer: true, maxPayload });
  }

  /** The Node `upgrade` listener (BSPump's `handler`): hand it the upgrades of this source's path. */
  readonly handler: UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!this.running) {
      this.stats.refused++;
      refuseUpgrade(socket, 503, "Service Unavailable", { "Retry-After": "1" });
      return;
    }
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request));
  };

  /**
   * Serves WebSocket upgrades of `path` on a web server: a Node http(s) server, an object exposing one
   * as `server` (the application's web server), or a router with `upgrade(path, handler)`.
   */
  mount(target: UpgradeTarget, path = this.path): this {
    this.#unmount.push(mountUpgrade(target, normalizePath(path), this.handler));
    return this;
  }

  /** Detaches from the servers `mount()` attached it to. */
  unmount(): void {
    for (const detach of this.#unmount.splice(0)) detach();
  }

  /** Where the own listener listens, once it does (`listen` set). */
  listening(): Promise<AddressInfo> {
    return this.#slot.listening();
  }

  /** Sockets open now. */
  get sockets(): ReadonlySet<WebSocket> {
    return new Set([...this.#peers].map((peer) => peer.socket));
  }

  /** Messages received and not yet handed to the pipeline, over every socket. */
  get queued(): number {
    let n = 0;
    for (const peer of this.#peers) n += peer.queue.length;
    return n;
  }

  async main(): Promise<void> {
    if (this.#listen !== undefined) await this.#slot.open(this.#listen, this.path, undefined, this.handler, this.log);
    try {
      await this.stopped();
    } finally {
      for (const peer of this.#peers) peer.socket.close(1001, "going away");
      this.#slot.close();
    }
  }

  #accept(socket: WebSocket, request: IncomingMessage): void {
    const peer: Peer = { socket, request, queue: [], pumping: false, paused: false };
    this.#peers.add(peer);
    this.stats.connections++;
    this.stats.open++;
    this.log.debug("WebSocket connected", { remote: request.socket.remoteAddress });
    socket.on("message", (data: RawData, binary: boolean) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      peer.queue.push({ data: binary ? buffer : buffer.toString("utf8"), binary });
      if (!peer.paused && (peer.queue.length >= this.queueMaxSize || !this.pipeline.isReady())) this.#pause(peer);
      if (!peer.pumping) void this.#pump(peer);
    });
    socket.on("error", (error) => this.log.warn("WebSocket connection closed with an error", { error, remote: request.socket.remoteAddress }));
    socket.on("close", () => {
      this.#peers.delete(peer);
      this.stats.open--;
    });
    if (!this.running) socket.close(1001, "going away");
  }

  #pause(peer: Peer): void {
    peer.paused = true;
    this.stats.paused++;
    peer.socket.pause();
  }

  /** Hands a socket's messages to the pipeline, a batch at a time, in order; resumes reading once they are all in. */
  async #pump(peer: Peer): Promise<void> {
    peer.pumping = true;
    try {
      while (peer.queue.length > 0) {
        await this.pipeline.ready();
        const batch = peer.queue.splice(0, this.queueMaxSize);
        const contexts = batch.map((m): WebSocketContext => ({ type: m.binary ? "binary" : "text", request: peer.request, websocket: peer.socket }));
        await this.processBatch(
          batch.map((m) => m.data),
          contexts,
        );
        this.stats.messages += batch.length;
      }
      if (peer.paused && peer.socket.readyState === WebSocket.OPEN) {
        peer.paused = false;
        peer.socket.resume();
      }
    } catch (error) {
      if (!isStopSignal(error)) this.log.error("Cannot hand messages to the pipeline", { error });
      peer.queue.length = 0;
      peer.socket.close(1001, "going away");
    } finally {
      peer.pumping = false;
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Path: this.path, Sockets: this.#peers.size, Stats: { ...this.stats } };
  }
}

import { lstat, unlink } from "node:fs/promises";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import {
  ConfigError,
  Source,
  isStopSignal,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import { configuredAddresses, formatEndpoint, type Address } from "./address.js";
import { LineTooLongError, ListenError } from "./errors.js";
import { PROTOCOLS, type ProtocolFactory } from "./protocol.js";

/**
 * One client connection, in the context of its events as `stream` (BSPump's Stream): `send()` writes
 * back to the client (an echo, a reply), `close()` ends the connection.
 */
export class Stream {
  readonly socket: Socket;
  /** "ip port" of the client, or the socket path. */
  readonly peer: string;
  /** "ip port" of this end, or the socket path. */
  readonly me: string;

  constructor(socket: Socket, peer: string, me: string) {
    this.socket = socket;
    this.peer = peer;
    this.me = me;
  }

  /** Writes to the client; false when the socket's buffer is full (the data is still queued). */
  send(data: Uint8Array | string): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(data);
  }

  close(): void {
    this.socket.end();
  }
}

/** What a stream server source puts beside each event (BSPump's keys). */
export interface StreamContext extends Context {
  /** "AF_INET", "AF_INET6" or "AF_UNIX". */
  stream_type: string;
  stream_dir: "in";
  stream_peer: string;
  stream_me: string;
  stream: Stream;
}

export interface StreamServerSourceOptions<Out> extends ComponentOptions {
  /** Cuts each connection's bytes into events; defaults to the `protocol` key: "line" or "chunk". */
  protocol?: ProtocolFactory<Out> | undefined;
}

interface Listener {
  address: Address;
  server: Server;
}

/**
 * A TCP (or UNIX socket) server whose clients' data become events (BSPump's StreamServerSource, also
 * TCPStreamSource/TCPSource/StreamSource): one event per line by default (`protocol=line`) or per chunk
 * as it arrives (`protocol=chunk`), decoded with `decode` (or Buffers with `decode=bytes`). Many
 * clients at once, each read in order. Back-pressure: a client's data is read only while the pipeline
 * takes it — while the pipeline is not ready the source stops reading that socket, its buffers fill and
 * TCP flow control holds the client back. Listens on 127.0.0.1 unless `address` says otherwise.
 */
export class StreamServerSource<Out = string | Buffer> extends Source<Out> {
  static override ConfigDefaults: ConfigValues = {
    address: "127.0.0.1 8888", // one per line: "host port", "host:port", "*:port", "port", or a UNIX socket path
    backlog: "", // listen backlog; "" = the system's default
    decode: "utf-8", // "bytes" (or ""): events are Buffers
    protocol: "line", // "line" or "chunk"
    max_line_size: 1024 * 1024, // a longer line is dropped and reported
  };

  readonly addresses: readonly Address[];
  readonly #protocol: ProtocolFactory<Out>;
  readonly #decode: string;
  readonly #maxLineSize: number;
  readonly #backlog: number | undefined;
  readonly #listeners: Listener[] = [];
  readonly #clients = new Map<Socket, Promise<void>>();
  #listening = Promise.withResolvers<(AddressInfo | string)[]>();
  /** Connections accepted since start. */
  connections = 0;

  constructor(app: PumpApplication, pipeline: Pipeline, options: StreamServerSourceOptions<Out> = {}) {
    super(app, pipeline, options);
    this.#listening.promise.catch(() => {});
    this.addresses = configuredAddresses(this.config);
    this.#decode = this.config.get("decode");
    this.#maxLineSize = this.config.getInt("max_line_size");
    const backlog = this.config.get("backlog").trim();
    this.#backlog = backlog === "" ? undefined : this.config.getInt("backlog");
    if (options.protocol !== undefined) this.#protocol = options.protocol;
    else {
      const name = this.config.get("protocol").trim();
      const factory = PROTOCOLS[name];
      if (factory === undefined) throw new ConfigError(`unknown protocol '${name}' (known: ${Object.keys(PROTOCOLS).join(", ")})`, { section: this.config.section, key: "protocol" }, "PUMP_CONFIG_VALUE");
      this.#protocol = factory as unknown as ProtocolFactory<Out>;
    }
    try {
      this.#protocol({ decode: this.#decode, maxLineSize: this.#maxLineSize, onTooLong: () => {} });
    } catch (error) {
      throw new ConfigError(error instanceof Error ? error.message : String(error), { section: this.config.section, key: "decode" }, "PUMP_CONFIG_VALUE");
    }
  }

  /** Resolves with the bound addresses (a port 0 becomes the port the system chose) once the source listens. */
  listening(): Promise<(AddressInfo | string)[]> {
    return this.#listening.promise;
  }

  /** The connections open now. */
  get clients(): number {
    return this.#clients.size;
  }

  override start(): void {
    if (!this.running) this.#listening = Promise.withResolvers();
    this.#listening.promise.catch(() => {});
    super.start();
  }

  async main(): Promise<void> {
    try {
      for (const address of this.addresses) this.#listeners.push({ address, server: await this.#listen(address) });
    } catch (error) {
      this.#listening.reject(error);
      await this.#close();
      throw error;
    }
    this.#listening.resolve(this.#listeners.map((l) => l.server.address() ?? ""));
    try {
      await this.stopped();
    } finally {
      await this.#close();
    }
  }

  async #listen(address: Address): Promise<Server> {
    const server = createServer({ pauseOnConnect: false, noDelay: true }, (socket) => this.#accept(socket));
    if (address.kind === "unix") await this.#freeSocketPath(address.path);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        resolve();
      };
      if (address.kind === "unix") server.listen({ path: address.path, backlog: this.#backlog }, done);
      else server.listen({ host: address.host, port: address.port, backlog: this.#backlog }, done);
    }).catch((error: unknown) => {
      throw new ListenError(address.text, { cause: error });
    });
    server.on("error", (error) => this.log.error("Server socket failed", { address: address.text, error }));
    this.log.notice(address.kind === "unix" ? "Listening on UNIX socket (STREAM)" : "Listening on TCP", { address: address.text, bound: server.address() });
    return server;
  }

  /** A UNIX socket path left by an earlier run is removed; any other file there is refused. */
  async #freeSocketPath(path: string): Promise<void> {
    let stat;
    try {
      stat = await lstat(path);
    } catch {
      return;
    }
    if (!stat.isSocket()) throw new ListenError(path, { cause: new Error("the path is occupied by something that is not a socket") });
    await unlink(path);
  }

  #accept(socket: Socket): void {
    if (!this.running) {
      socket.destroy();
      return;
    }
    this.connections++;
    const task = this.#serve(socket).finally(() => this.#clients.delete(socket));
    this.#clients.set(socket, task);
  }

  async #serve(socket: Socket): Promise<void> {
    const unix = socket.remoteFamily === undefined;
    const family = unix ? "AF_UNIX" : socket.remoteFamily === "IPv6" ? "AF_INET6" : "AF_INET";
    const peer = unix ? "unix" : formatEndpoint(socket.remoteAddress, socket.remotePort);
    const me = unix ? String(socket.localAddress ?? "unix") : formatEndpoint(socket.localAddress, socket.localPort);
    const stream = new Stream(socket, peer, me);
    const base: StreamContext = { stream_type: family, stream_dir: "in", stream_peer: peer, stream_me: me, stream };
    this.log.notice("Connected", { peer });
    const protocol = this.#protocol({
      decode: this.#decode,
      maxLineSize: this.#maxLineSize,
      onTooLong: () => this.pipeline.setError({ ...base }, undefined, new LineTooLongError(peer, this.#maxLineSize), this),
    });
    socket.on("error", () => {}); // seen by the iteration below
    const hand = async (events: Out[]): Promise<void> => {
      if (events.length === 0) return;
      const contexts: Context[] = [];
      for (let i = 0; i < events.length; i++) contexts.push({ ...base });
      await this.processBatch(events, contexts);
    };
    try {
      // Reading through the async iterator is the back-pressure: while a batch waits for the pipeline,
      // nothing reads the socket, its buffer fills and Node stops reading from the kernel.
      for await (const chunk of socket as AsyncIterable<Buffer>) await hand(protocol.feed(chunk));
      await hand(protocol.end());
    } catch (error) {
      if (!isStopSignal(error) && !this.signal.aborted) this.log.info("Connection failed", { peer, error });
    } finally {
      socket.destroy();
      this.log.notice("Disconnected", { peer });
    }
  }

  async #close(): Promise<void> {
    const listeners = this.#listeners.splice(0);
    const closed = listeners.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.#clients.keys()) socket.destroy();
    await Promise.allSettled(this.#clients.values());
    await Promise.all(closed);
  }

  override restGet(): Record<string, unknown> {
    return {
      ...super.restGet(),
      Addresses: this.addresses.map((a) => a.text),
      Listening: this.#listeners.map((l) => l.server.address()),
      Clients: this.#clients.size,
      Connections: this.connections,
    };
  }
}

/** BSPump's backward-compatible names. */
export { StreamServerSource as TCPStreamSource, StreamServerSource as TCPSource, StreamServerSource as StreamSource };

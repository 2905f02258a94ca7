import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIP } from "node:net";
import {
  ConfigError,
  Sink,
  Source,
  deliveryOf,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import { configuredAddresses, type Address } from "./address.js";
import { EventTypeError, ListenError, NotSentError } from "./errors.js";

/** What a datagram source puts beside each event: the sender as `[address, port]` (BSPump's `datagram` tuple). */
export interface DatagramContext extends Context {
  datagram: [string, number];
}

function inetOnly(config: { section: string }, addresses: readonly Address[]): Extract<Address, { kind: "inet" }>[] {
  return addresses.map((address) => {
    if (address.kind !== "inet") throw new ConfigError("UNIX datagram sockets are not supported by Node.js", { section: config.section, key: "address" }, "PUMP_CONFIG_VALUE");
    return address;
  });
}

function socketType(host: string | undefined): "udp4" | "udp6" {
  return host !== undefined && isIP(host) === 6 ? "udp6" : "udp4";
}

/**
 * Receives UDP datagrams, one event (a Buffer) per datagram (BSPump's DatagramSource, also UDPSource),
 * with the sender in the context (`datagram: [address, port]`). Listens on 127.0.0.1 unless `address`
 * says otherwise. UDP has no flow control: datagrams that arrive while the pipeline is not ready wait in
 * a queue of `queue_max_size`; when it is full, further datagrams are dropped and counted (`dropped`),
 * as the kernel would drop them.
 */
export class DatagramSource extends Source<Buffer> {
  static override ConfigDefaults: ConfigValues = {
    address: "127.0.0.1 8888", // one per line: "host port", "host:port", "*:port" or "port"
    max_packet_size: 64 * 1024, // longer datagrams are cut to this size
    receiver_buffer_size: 0, // SO_RCVBUF when > 0
    queue_max_size: 10_000, // datagrams held while the pipeline is not ready
  };

  readonly addresses: readonly Extract<Address, { kind: "inet" }>[];
  readonly #maxPacket: number;
  readonly #receiveBuffer: number;
  readonly #queueMax: number;
  readonly #sockets: UdpSocket[] = [];
  #events: Buffer[] = [];
  #contexts: DatagramContext[] = [];
  #wake: (() => void) | undefined;
  #listening = Promise.withResolvers<{ address: string; port: number }[]>();
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  received = 0;
  #lastDropLog = -Infinity;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.#listening.promise.catch(() => {});
    this.addresses = inetOnly(this.config, configuredAddresses(this.config));
    this.#maxPacket = this.config.getInt("max_packet_size");
    this.#receiveBuffer = this.config.getInt("receiver_buffer_size");
    this.#queueMax = Math.max(1, this.config.getInt("queue_max_size"));
  }

  /** Resolves with the bound addresses once the source listens (a port 0 becomes the chosen port). */
  listening(): Promise<{ address: string; port: number }[]> {
    return this.#listening.promise;
  }

  /** Datagrams waiting for the pipeline. */
  get queued(): number {
    return this.#events.length;
  }

  override start(): void {
    if (!this.running) this.#listening = Promise.withResolvers();
    this.#listening.promise.catch(() => {});
    super.start();
  }

  async main(): Promise<void> {
    try {
      for (const address of this.addresses) this.#sockets.push(await this.#bind(address));
    } catch (error) {
      this.#listening.reject(error);
      this.#close();
      throw error;
    }
    this.#listening.resolve(this.#sockets.map((s) => s.address()));
    try {
      for (;;) {
        await this.pipeline.ready();
        if (!this.pipeline.isReady()) continue; // throttled while ready() was resolving: the datagrams stay queued
        if (this.#events.length === 0) {
          await new Promise<void>((resolve, reject) => {
            const signal = this.signal;
            if (signal.aborted) return reject(signal.reason);
            const onAbort = (): void => reject(signal.reason);
            signal.addEventListener("abort", onAbort, { once: true });
            this.#wake = () => {
              signal.removeEventListener("abort", onAbort);
              resolve();
            };
          });
          continue;
        }
        const events = this.#events;
        const contexts = this.#contexts;
        this.#events = [];
        this.#contexts = [];
        await this.processBatch(events, contexts);
      }
    } finally {
      this.#close();
    }
  }

  async #bind(address: Extract<Address, { kind: "inet" }>): Promise<UdpSocket> {
    const socket = createSocket({ type: socketType(address.host), reuseAddr: true });
    socket.on("message", (message, remote) => this.#received(message, remote.address, remote.port));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: address.host, port: address.port }, () => {
        socket.off("error", reject);
        resolve();
      });
    }).catch((error: unknown) => {
      socket.close();
      throw new ListenError(address.text, { cause: error });
    });
    if (this.#receiveBuffer > 0) socket.setRecvBufferSize(this.#receiveBuffer);
    socket.on("error", (error) => this.log.error("Datagram socket failed", { address: address.text, error }));
    this.log.notice("Listening on UDP", { address: address.text, bound: socket.address() });
    return socket;
  }

  #received(message: Buffer, address: string, port: number): void {
    this.received++;
    if (this.#events.length >= this.#queueMax) {
      this.dropped++;
      const now = performance.now();
      if (now - this.#lastDropLog >= 10_000) {
        this.#lastDropLog = now;
        this.log.warn("Datagrams dropped: the pipeline does not take them fast enough", { dropped: this.dropped, queued: this.#events.length });
      }
      return;
    }
    this.#events.push(message.length > this.#maxPacket ? message.subarray(0, this.#maxPacket) : message);
    this.#contexts.push({ datagram: [address, port] });
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #close(): void {
    for (const socket of this.#sockets.splice(0)) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Addresses: this.addresses.map((a) => a.text), Received: this.received, Dropped: this.dropped, Queued: this.#events.length };
  }
}

/**
 * Sends each event (bytes or a string) as one UDP datagram to `address` (BSPump's DatagramSink). The
 * delivery is confirmed when the datagram was sent (UDP itself confirms nothing); a send error fails it.
 */
export class DatagramSink extends Sink<Uint8Array | string> {
  static override ConfigDefaults: ConfigValues = { address: "127.0.0.1 8888" };

  override readonly confirmsDelivery = true;
  readonly address: Extract<Address, { kind: "inet" }>;
  #socket: UdpSocket | undefined;
  #pending = 0;
  #idle: (() => void) | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const addresses = inetOnly(this.config, configuredAddresses(this.config));
    if (addresses.length !== 1) throw new ConfigError("expected one address", { section: this.config.section, key: "address" }, "PUMP_CONFIG_VALUE");
    this.address = addresses[0]!;
  }

  override async start(): Promise<void> {
    const socket = createSocket(socketType(this.address.host));
    socket.on("error", (error) => this.log.warn("Datagram socket failed", { address: this.address.text, error }));
    await new Promise<void>((resolve) => socket.connect(this.address.port, this.address.host ?? "127.0.0.1", () => resolve()));
    this.#socket = socket;
  }

  process(context: Context, event: Uint8Array | string): void {
    if (typeof event !== "string" && !(event instanceof Uint8Array)) throw new EventTypeError(this.id, event);
    const delivery = deliveryOf(context);
    const socket = this.#socket;
    if (socket === undefined) throw new NotSentError(this.address.text, "the sink is not started");
    this.#pending++;
    socket.send(event, (error) => {
      if (error === null || error === undefined) delivery?.done();
      else delivery?.fail(new NotSentError(this.address.text, error.message));
      if (--this.#pending === 0) this.#idle?.();
    });
  }

  override async stop(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#idle = undefined;
    this.#socket?.close();
    this.#socket = undefined;
  }
}

export { DatagramSource as UDPSource };

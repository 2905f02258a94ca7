import { connect, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, Sink, deliveryOf, type ComponentOptions, type ConfigValues, type Context, type Delivery, type Pipeline, type PumpApplication } from "@pump/core";
import { configuredAddresses, type Address } from "./address.js";
import { EventTypeError, NotSentError } from "./errors.js";

interface Item {
  data: Uint8Array;
  delivery: Delivery | undefined;
}

/**
 * Sends each event, as it is (no framing), over a TCP or UNIX stream connection (BSPump's
 * StreamClientSink, also StreamSink). It connects when the pipeline starts and reconnects with
 * exponential backoff (`reconnect_delay` doubling up to `reconnect_delay_max`) whenever the connection
 * is refused or lost. The pipeline is throttled while the sink is not connected, while the socket's
 * write buffer is full, and while `outbound_queue_max_size` events wait; so nothing is dropped while
 * the server is away. Each event's delivery is confirmed once the socket wrote it (handed it to the
 * operating system); events written to a connection that broke before they were confirmed are sent
 * again on the next one (at least once). On stop it waits up to `stop_timeout` seconds for what it
 * holds to be written, then fails the rest back to their sources. Data the server sends is discarded.
 */
export class StreamClientSink extends Sink<Uint8Array | string> {
  static override ConfigDefaults: ConfigValues = {
    address: "127.0.0.1 8888", // "host port", "host:port" or a UNIX socket path
    outbound_queue_max_size: 100, // events held (waiting or being written) before the pipeline is throttled
    reconnect_delay: 1, // seconds before the first reconnection; doubles on each failure
    reconnect_delay_max: 30,
    stop_timeout: 10, // seconds stop() waits for held events to be written
  };

  override readonly confirmsDelivery = true;
  readonly address: Address;
  readonly #maxQueue: number;
  readonly #delayMin: number;
  readonly #delayMax: number;
  readonly #stopTimeout: number;
  /** Events not yet written, oldest first. */
  #queue: Item[] = [];
  /** Events written to the current socket whose write callback has not come yet, oldest first. */
  #inflight: Item[] = [];
  #socket: Socket | undefined;
  #connected = false;
  #full = false;
  #throttled = false;
  #running = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #changed: (() => void) | undefined;
  /** Connections made since start. */
  connections = 0;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const addresses = configuredAddresses(this.config);
    if (addresses.length !== 1) throw new ConfigError("expected one address", { section: this.config.section, key: "address" }, "PUMP_CONFIG_VALUE");
    this.address = addresses[0]!;
    this.#maxQueue = Math.max(1, this.config.getInt("outbound_queue_max_size"));
    this.#delayMin = this.config.getSeconds("reconnect_delay");
    this.#delayMax = Math.max(this.#delayMin, this.config.getSeconds("reconnect_delay_max"));
    this.#stopTimeout = this.config.getSeconds("stop_timeout");
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Events held: waiting to be written or being written. */
  get pending(): number {
    return this.#queue.length + this.#inflight.length;
  }

  override start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#updateThrottle();
    this.#loop = this.#connectLoop();
  }

  process(context: Context, event: Uint8Array | string): void {
    let data: Uint8Array;
    if (typeof event === "string") data = Buffer.from(event, "utf8");
    else if (event instanceof Uint8Array) data = event;
    else throw new EventTypeError(this.id, event);
    const item: Item = { data, delivery: deliveryOf(context) };
    if (this.#connected && this.#queue.length === 0 && !this.#full) this.#write(item);
    else this.#queue.push(item);
    this.#updateThrottle();
  }

  override async stop(): Promise<void> {
    if (!this.#running) return;
    const deadline = performance.now() + this.#stopTimeout * 1000;
    while (this.pending > 0 && performance.now() < deadline) {
      await this.#nextChange(deadline - performance.now());
    }
    this.#running = false;
    this.#abort.abort();
    const socket = this.#socket;
    if (socket !== undefined) {
      if (this.pending === 0) socket.end();
      else socket.destroy();
    }
    await this.#loop;
    const left = [...this.#inflight, ...this.#queue];
    this.#inflight = [];
    this.#queue = [];
    if (left.length > 0) {
      const error = new NotSentError(this.address.text, this.#connected ? "the sink stopped before they were written" : "not connected when the sink stopped");
      this.log.warn("Events not sent: failed back to their sources", { events: left.length, address: this.address.text });
      for (const item of left) item.delivery?.fail(error);
    }
    this.#connected = false;
    this.#updateThrottle(false);
  }

  #write(item: Item): void {
    const socket = this.#socket!;
    this.#inflight.push(item);
    const ok = socket.write(item.data, (error) => {
      if (error !== undefined && error !== null) return; // the connection broke: "close" puts the item back in the queue
      if (this.#socket !== socket) return; // already put back with the rest of the old connection
      const index = this.#inflight.indexOf(item);
      if (index < 0) return;
      this.#inflight.splice(index, 1);
      item.delivery?.done();
      this.#updateThrottle();
      this.#notify();
    });
    if (!ok && !this.#full) {
      this.#full = true;
      socket.once("drain", () => {
        if (this.#socket !== socket) return;
        this.#full = false;
        this.#flush();
      });
    }
  }

  /** Writes what waits, until the socket's buffer is full. */
  #flush(): void {
    while (this.#connected && !this.#full && this.#queue.length > 0) this.#write(this.#queue.shift()!);
    this.#updateThrottle();
  }

  async #connectLoop(): Promise<void> {
    const signal = this.#abort.signal;
    let wait = this.#delayMin;
    let failures = 0;
    while (!signal.aborted) {
      let socket: Socket;
      try {
        socket = await this.#connect(signal);
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        if (failures === 1) this.log.warn("Cannot connect: will keep trying", { address: this.address.text, error });
        else this.log.debug("Cannot connect", { address: this.address.text, error, failures });
        try {
          await delay(wait * 1000, undefined, { signal });
        } catch {
          break;
        }
        wait = Math.min(wait * 2, this.#delayMax);
        continue;
      }
      failures = 0;
      wait = this.#delayMin;
      this.connections++;
      this.log.notice("Connected", { address: this.address.text });
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("error", (error) => this.log.warn("Connection failed", { address: this.address.text, error }));
      socket.on("end", () => socket.end()); // the server closed its side
      socket.resume(); // what the server sends is discarded
      this.#socket = socket;
      this.#connected = true;
      this.#full = false;
      this.#flush();
      this.#notify();
      await closed;
      this.#connected = false;
      this.#socket = undefined;
      this.#full = false;
      // What the old connection did not confirm goes first on the next one.
      if (this.#inflight.length > 0) {
        this.#queue = [...this.#inflight, ...this.#queue];
        this.#inflight = [];
      }
      this.#updateThrottle();
      this.#notify();
      if (!signal.aborted) this.log.warn("Disconnected: reconnecting", { address: this.address.text, waiting: this.#queue.length });
    }
  }

  #connect(signal: AbortSignal): Promise<Socket> {
    const address = this.address;
    return new Promise<Socket>((resolve, reject) => {
      const socket = address.kind === "unix" ? connect({ path: address.path }) : connect({ host: address.host ?? "127.0.0.1", port: address.port, noDelay: true });
      const onAbort = (): void => {
        socket.destroy();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("connect", () => {
        signal.removeEventListener("abort", onAbort);
        socket.removeListener("error", reject);
        resolve(socket);
      });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      });
      socket.once("close", () => reject(new Error("closed while connecting")));
    });
  }

  #updateThrottle(on = this.#running && (!this.#connected || this.#full || this.pending >= this.#maxQueue)): void {
    if (on === this.#throttled) return;
    this.#throttled = on;
    this.pipeline.throttle(this, on);
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.();
  }

  #nextChange(timeout: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, timeout));
      this.#changed = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Address: this.address.text, Connected: this.#connected, Pending: this.pending, Connections: this.connections };
  }
}

export { StreamClientSink as StreamSink };

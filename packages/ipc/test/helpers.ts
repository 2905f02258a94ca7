import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { DELIVERY, Delivery, Pipeline, PumpApplication, Sink, Source, deliveryOf, type Context } from "@pump/core";

export { freePort } from "@pump/core/testing";

/** An application that reads no command line and no file. */
export function createApp(): PumpApplication {
  return new PumpApplication({ args: [] });
}

/** A pipeline whose errors are soft: counted as warnings, the event dropped. */
export class SoftPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

/** Records what reaches it; above `limit` held events it throttles the pipeline until `release()`. */
export class CollectSink<T = unknown> extends Sink<T> {
  readonly events: T[] = [];
  readonly contexts: Context[] = [];
  limit = Infinity;
  throttled = false;

  process(context: Context, event: T): void {
    this.events.push(event);
    this.contexts.push(context);
    if (this.events.length >= this.limit && !this.throttled) {
      this.throttled = true;
      this.pipeline.throttle(this, true);
    }
  }

  release(): void {
    this.limit = Infinity;
    if (this.throttled) {
      this.throttled = false;
      this.pipeline.throttle(this, false);
    }
  }
}

/** Hands its events over with a tracked delivery each, in batches of `batchSize`, and records the settlements. */
export class TrackedSource<T> extends Source<T> {
  events: T[] = [];
  batchSize = 10;
  handed = 0;
  readonly settled: { token: number; error: unknown; at: unknown }[] = [];
  /** Recorded with each settlement (e.g. which connection a sink was on). */
  stamp: () => unknown = () => undefined;

  async main(): Promise<void> {
    for (let i = 0; i < this.events.length; i += this.batchSize) {
      await this.pipeline.ready();
      const batch = this.events.slice(i, i + this.batchSize);
      await this.processBatch(
        batch,
        batch.map((_, k) => ({ [DELIVERY]: new Delivery<number>((d, error) => this.settled.push({ token: d.token, error, at: this.stamp() }), i + k) })),
      );
      this.handed += batch.length;
    }
  }

  failures(): unknown[] {
    return this.settled.filter((s) => s.error !== undefined).map((s) => s.error);
  }
}

/** A sink that confirms nothing itself (for sources tested on their own). */
export function settle(context: Context): void {
  deliveryOf(context)?.done();
}

/** Resolves once `condition` holds, checking on every turn of the event loop (gives up after 20 000 turns so a broken test cannot hang). */
export async function until(condition: () => boolean, what = "condition"): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 100 ? 0 : 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Turns of the event loop (for "nothing more happens" checks, not for timing). */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** A TCP server on 127.0.0.1 that keeps what its clients send. */
export class TestServer {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  readonly received: Buffer[] = [];
  /** What each connection received, in the order they were accepted. */
  readonly connections: Buffer[][] = [];
  paused = false;

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      const mine: Buffer[] = [];
      this.connections.push(mine);
      if (this.paused) socket.pause();
      socket.on("data", (chunk: Buffer) => {
        this.received.push(chunk);
        mine.push(chunk);
      });
      socket.on("error", () => {});
    });
  }

  get text(): string {
    return Buffer.concat(this.received).toString();
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}


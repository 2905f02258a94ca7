import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DELIVERY, Delivery, deliveryOf, Sink, Source, type Context } from "@pump/core";

export { createApp, freePort, UnitTestSink } from "@pump/core/testing";

/**
 * Polls `condition` every `intervalMs`, at most `tries` times (so a broken test cannot hang; the
 * bound is generous — never an expectation about speed).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 2000, intervalMs = 10): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export interface TestServer {
  server: Server;
  port: number;
  url: string;
  /** Every request, body read, in arrival order. */
  requests: Received[];
  close(): Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 (port 0 unless given) that records each request with its body and
 * lets `answer` respond (default: 200 "OK").
 */
export async function startServer(
  answer: (request: Received, response: ServerResponse, index: number) => void | Promise<void> = (_r, response) => void response.end("OK"),
  port = 0,
): Promise<TestServer> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(received);
      void Promise.resolve(answer(received, res, requests.length - 1)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A sink that buffers and confirms only when told (`release(n)`), throttling its pipeline while it
 * holds `limit` events or more — a slow server-backed sink.
 */
export class SlowSink<T = unknown> extends Sink<T> {
  override readonly confirmsDelivery = true;
  readonly held: { context: Context; event: T }[] = [];
  readonly released: T[] = [];
  limit = 10;
  /** The most events it held at once. */
  peak = 0;
  failWith: Error | undefined;
  #throttled = false;

  process(context: Context, event: T): void {
    this.held.push({ context, event });
    this.peak = Math.max(this.peak, this.held.length);
    if (!this.#throttled && this.held.length >= this.limit) {
      this.#throttled = true;
      this.pipeline.throttle(this, true);
    }
  }

  /** Confirms (or fails, with `failWith`) the oldest `n` events. */
  release(n = this.held.length): void {
    for (const { context, event } of this.held.splice(0, n)) {
      if (this.failWith !== undefined) deliveryOf(context)?.fail(this.failWith);
      else {
        this.released.push(event);
        deliveryOf(context)?.done();
      }
    }
    if (this.#throttled && this.held.length < this.limit) {
      this.#throttled = false;
      this.pipeline.throttle(this, false);
    }
  }

  override stop(): void {
    this.release();
  }
}

/** Hands its events to the pipeline, each with a delivery whose settlement is recorded. */
export class TrackedSource<T = unknown> extends Source<T> {
  events: T[] = [];
  batchSize = 1;
  readonly settled: { index: number; error: unknown }[] = [];

  async main(): Promise<void> {
    for (let i = 0; i < this.events.length; i += this.batchSize) {
      await this.pipeline.ready();
      const batch = this.events.slice(i, i + this.batchSize);
      await this.processBatch(
        batch,
        batch.map((_, k) => ({ [DELIVERY]: new Delivery<number>((d, error) => this.settled.push({ index: d.token, error }), i + k) })),
      );
    }
    await this.stopped();
  }
}

/** Reads a request body as JSON. */
export function json(body: Buffer): unknown {
  return JSON.parse(body.toString("utf8"));
}

// The conformance kit of @pump/core/testing against the stream components: StreamClientSink writing to
// a TCP server through a TCP proxy (the outage), and StreamServerSource listening for a sender that
// reconnects until it got its lines through. A TCP stream carries no receipt: the parts of the
// contracts built on one are declared not applicable below.
import { connect, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { sinkConformance, sourceConformance, TcpProxy } from "@pump/core/testing";
import { describe, it } from "vitest";
import { StreamClientSink, StreamServerSource } from "../src/index.js";
import { freePort, TestServer } from "./helpers.js";

/**
 * What sends lines to a TCP server source, as a log shipper does: it holds what it was given and
 * (re)connects every 50 ms until the server takes it. A line written to a connection that breaks is
 * not sent again (TCP gives no receipt to know it arrived).
 */
class LineSender {
  readonly #port: number;
  #pending: string[] = [];
  #socket: Socket | undefined;
  #connecting = false;
  #closed = false;
  readonly #timer: NodeJS.Timeout;

  constructor(port: number) {
    this.#port = port;
    this.#timer = setInterval(() => this.#flush(), 50);
  }

  send(lines: string[]): void {
    this.#pending.push(...lines);
    this.#flush();
  }

  /** Drops the connection (as a network fault would); the next lines go over a new one. */
  cut(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.cut();
  }

  #flush(): void {
    if (this.#closed || this.#pending.length === 0) return;
    if (this.#socket === undefined) {
      if (this.#connecting) return;
      this.#connecting = true;
      const socket = connect({ host: "127.0.0.1", port: this.#port });
      socket.on("error", () => {});
      socket.once("close", () => {
        this.#connecting = false;
        if (this.#socket === socket) this.#socket = undefined;
      });
      socket.once("connect", () => {
        this.#connecting = false;
        this.#socket = socket;
        this.#flush();
      });
      return;
    }
    this.#socket.write(this.#pending.join(""));
    this.#pending = [];
  }
}

describe("StreamServerSource keeps the source contract (conformance kit)", () => {
  const cases = sourceConformance<string>({
    name: "StreamServerSource",
    notApplicable: { acknowledges: "a TCP stream carries no acknowledgement: what the source read is no longer the sender's to send again" },
    setUp: async () => {
      const port = await freePort();
      const sender = new LineSender(port);
      return {
        create: (app, pipeline) => new StreamServerSource(app, pipeline, { config: { address: `127.0.0.1 ${port}` } }),
        produce: (from, count) => {
          sender.send(Array.from({ length: count }, (_, k) => `${from + k}\n`));
          return Promise.resolve();
        },
        idOf: (line) => Number(line.trim()),
        drop: () => {
          sender.cut();
          return Promise.resolve();
        },
        tearDown: () => {
          sender.close();
          return Promise.resolve();
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});

describe("StreamClientSink keeps the sink contract (conformance kit)", () => {
  const cases = sinkConformance<string>({
    name: "StreamClientSink",
    // outbound_queue_max_size below: 50 events, and a batch more
    capacity: 150,
    notApplicable: { refusal: "a TCP stream takes any bytes; the server sends no verdict on an event" },
    setUp: async () => {
      const server = new TestServer();
      const port = await server.listen();
      const { proxy } = await TcpProxy.to(`tcp://127.0.0.1:${port}`, port);
      await proxy.open();
      return {
        create: (app, pipeline) =>
          new StreamClientSink(app, pipeline, { config: { address: `127.0.0.1 ${proxy.port}`, outbound_queue_max_size: 50, reconnect_delay: 0.05, reconnect_delay_max: 0.2 } }),
        event: (i) => `${i}\n`,
        // TCP gives the sender no receipt: what it wrote reaches the server a moment later, so count once nothing more comes
        stored: async () => {
          let seen = -1;
          while (server.text.length !== seen) {
            seen = server.text.length;
            await delay(100);
          }
          return server.text.split("\n").filter((line) => line !== "").length;
        },
        outage: () => proxy.outage(),
        tearDown: async () => {
          await proxy.close();
          await server.close();
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});

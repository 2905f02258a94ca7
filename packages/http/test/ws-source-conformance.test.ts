// The conformance kit of @pump/core/testing against WebSocketSource on its own listener, fed by a
// client that keeps a socket open and opens a new one whenever it closes, as a streaming producer does.
// WebSocket carries no acknowledgement: that part of the contract is declared not applicable.
import { sourceConformance } from "@pump/core/testing";
import { it } from "vitest";
import { WebSocket } from "ws";
import { WebSocketSource } from "../src/index.js";
import { freePort } from "./helpers.js";

/** Holds the messages it was given and sends them once a socket is open; (re)connects every 50 ms. */
class StreamingClient {
  readonly #url: string;
  #pending: string[] = [];
  #socket: WebSocket | undefined;
  #closed = false;
  readonly #timer: NodeJS.Timeout;

  constructor(url: string) {
    this.#url = url;
    this.#timer = setInterval(() => this.#flush(), 50);
  }

  send(messages: string[]): void {
    this.#pending.push(...messages);
    this.#flush();
  }

  /** Drops the socket (as a network fault would); the next messages go over a new one. */
  drop(): void {
    this.#socket?.terminate();
    this.#socket = undefined;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.drop();
  }

  #flush(): void {
    if (this.#closed || this.#pending.length === 0) return;
    if (this.#socket === undefined) {
      const socket = new WebSocket(this.#url);
      this.#socket = socket;
      socket.on("error", () => {});
      socket.once("close", () => {
        if (this.#socket === socket) this.#socket = undefined;
      });
      socket.once("open", () => this.#flush());
      return;
    }
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    for (const message of this.#pending.splice(0)) this.#socket.send(message);
  }
}

for (const c of sourceConformance<Buffer | string>({
  name: "WebSocketSource",
  notApplicable: { acknowledges: "WebSocket has no acknowledgement: a message the source read is no longer the client's to send again" },
  setUp: async () => {
    const port = await freePort();
    const client = new StreamingClient(`ws://127.0.0.1:${port}/ws`);
    return {
      create: (app, pipeline) => new WebSocketSource(app, pipeline, { config: { listen: `127.0.0.1:${port}`, path: "/ws", queue_max_size: 10 } }),
      produce: (from, count) => {
        client.send(Array.from({ length: count }, (_, k) => String(from + k)));
        return Promise.resolve();
      },
      idOf: (message) => Number(message.toString()),
      drop: () => {
        client.drop();
        return Promise.resolve();
      },
      tearDown: () => {
        client.close();
        return Promise.resolve();
      },
    };
  },
}))
  it(c.name, c.run);

// The conformance kit of @pump/core/testing against WebServiceSource, fed by a webhook sender as real
// ones behave: it POSTs each batch and tries again until it is answered 200 — the source's
// acknowledgement, given only once every event of the request settled.
import { Agent, request } from "node:http";
import { sourceConformance } from "@pump/core/testing";
import { it } from "vitest";
import { WebServiceSource } from "../src/index.js";
import { freePort } from "./helpers.js";

/** Sends NDJSON bodies to `url`, each again every 50 ms until answered 200 (connection refused, 429, 5xx, a dropped socket). */
class WebhookSender {
  readonly #url: string;
  #agent = new Agent({ keepAlive: true });
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(url: string) {
    this.#url = url;
  }

  send(body: string): void {
    const sending = this.#deliver(body).finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  }

  /** True once every body was answered 200. */
  get idle(): boolean {
    return this.#pending.size === 0;
  }

  /** Destroys the sender's connections, in-flight requests with them (as a network fault would); the retries open new ones. */
  drop(): void {
    const old = this.#agent;
    this.#agent = new Agent({ keepAlive: true });
    old.destroy();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
    await Promise.allSettled(this.#pending);
  }

  async #deliver(body: string): Promise<void> {
    while (!this.#closed) {
      if ((await this.#post(body)) === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  #post(body: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request(this.#url, { method: "POST", agent: this.#agent, headers: { "Content-Type": "application/x-ndjson" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(0));
      });
      req.on("error", () => resolve(0));
      req.end(body);
    });
  }
}

for (const c of sourceConformance<number>({
  name: "WebServiceSource",
  notApplicable: { reconnects: "a server source holds no connection of its own: each client opens its own, and sends again a request that was not answered 200" },
  setUp: async () => {
    const port = await freePort();
    const sender = new WebhookSender(`http://127.0.0.1:${port}/hook`);
    return {
      create: (app, pipeline) =>
        new WebServiceSource<number>(app, pipeline, { config: { listen: `127.0.0.1:${port}`, path: "/hook", format: "ndjson", wait_timeout: 0.2, delivery_timeout: 30 } }),
      // one request per ten events, as a webhook batches
      produce: (from, count) => {
        for (let at = from; at < from + count; at += 10) {
          sender.send(Array.from({ length: Math.min(10, from + count - at) }, (_, k) => `${at + k}\n`).join(""));
        }
        return Promise.resolve();
      },
      idOf: (event) => event,
      drained: () => Promise.resolve(sender.idle),
      tearDown: () => sender.close(),
    };
  },
}))
  it(c.name, c.run);

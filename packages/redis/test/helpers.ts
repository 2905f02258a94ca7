import { randomUUID } from "node:crypto";
import { createClient, RESP_TYPES } from "@redis/client";

export { createApp } from "@pump/core/testing";

/** A key of its own for this run. */
export function unique(prefix: string): string {
  return `pump:redis:${prefix}:${randomUUID().slice(0, 8)}`;
}

/** The test's own Redis client (not the package's): puts elements on lists and reads what is there. */
export class TestRedis {
  readonly #client;
  readonly #ready: Promise<unknown>;

  constructor(url: string) {
    const client = createClient({ url });
    client.on("error", () => {});
    this.#ready = client.connect();
    this.#client = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  }

  async push(list: string, elements: (string | Buffer)[]): Promise<void> {
    await this.#ready;
    for (let i = 0; i < elements.length; i += 1000) await this.#client.rPush(list, elements.slice(i, i + 1000));
  }

  /** The whole list, head first. */
  async read(list: string): Promise<Buffer[]> {
    await this.#ready;
    return this.#client.lRange(list, 0, -1);
  }

  async length(list: string): Promise<number> {
    await this.#ready;
    return this.#client.lLen(list);
  }

  async set(key: string, value: string): Promise<void> {
    await this.#ready;
    await this.#client.set(key, value);
  }

  async delete(...keys: string[]): Promise<void> {
    await this.#ready;
    await this.#client.del(keys);
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => {});
    await this.#client.close();
  }
}

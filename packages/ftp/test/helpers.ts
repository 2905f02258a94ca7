import { randomUUID } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { Client } from "basic-ftp";
import { deliveryOf, Sink, type Context } from "@pump/core";
import { ftpAccess } from "@pump/test-servers";

export { createApp, UnitTestSink } from "@pump/core/testing";

/** A folder name of its own for this run. */
export function unique(prefix: string): string {
  return `/pump-ftp-${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Polls `condition` every `intervalMs`, at most `tries` times (so a broken test cannot hang; the
 * bound is generous — never an expectation about speed).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1500, intervalMs = 20): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/** The tests' own FTP client (independent of the package): uploads, lists, downloads, cleans up. */
export class TestFtp {
  readonly url: string;
  #client: Client | undefined;

  constructor(url: string) {
    this.url = url;
  }

  async client(): Promise<Client> {
    if (this.#client !== undefined && !this.#client.closed) return this.#client;
    const client = new Client(15_000);
    await client.access(ftpAccess(this.url));
    this.#client = client;
    return client;
  }

  async mkdir(dir: string): Promise<void> {
    const client = await this.client();
    await client.ensureDir(dir);
    await client.cd("/");
  }

  async upload(path: string, content: string | Buffer): Promise<void> {
    const client = await this.client();
    await client.uploadFrom(Readable.from([typeof content === "string" ? Buffer.from(content) : content]), path);
  }

  /** File names in a folder, sorted; [] if the folder does not exist. */
  async names(dir: string): Promise<string[]> {
    const client = await this.client();
    try {
      return (await client.list(dir)).map((f) => f.name).toSorted();
    } catch {
      return [];
    }
  }

  async download(path: string): Promise<Buffer> {
    const client = await this.client();
    const chunks: Buffer[] = [];
    await client.downloadTo(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      }),
      path,
    );
    return Buffer.concat(chunks);
  }

  async remove(dir: string): Promise<void> {
    const client = await this.client();
    await client.removeDir(dir).catch(() => {});
  }

  close(): void {
    this.#client?.close();
  }
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
}

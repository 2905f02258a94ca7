import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";

export { createApp, freePort, runApp, settlements, TcpProxy, UnitTestSink, UnitTestSource } from "@pump/core/testing";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** A queue, exchange... name of its own for this run. */
export function unique(prefix: string): string {
  return `pump-amqp-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` every `intervalMs`, at most `tries` times (a bound so a broken test cannot hang, never an expectation about speed). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1500, intervalMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/** The tests' own amqplib client (independent of the package) for declaring, publishing and reading. */
export class Broker {
  readonly url: string;
  #model: ChannelModel | undefined;
  #channel: Channel | undefined;

  constructor(url: string) {
    this.url = url;
  }

  /** A channel on a connection of the test's own, opened again if the broker restarted meanwhile. */
  async channel(): Promise<Channel> {
    if (this.#channel !== undefined) return this.#channel;
    const model = (this.#model ??= await amqp.connect(this.url));
    model.on("error", () => {});
    model.once("close", () => {
      this.#model = undefined;
      this.#channel = undefined;
    });
    const channel = await model.createConfirmChannel();
    channel.on("error", () => {});
    channel.once("close", () => {
      if (this.#channel === channel) this.#channel = undefined;
    });
    this.#channel = channel;
    return channel;
  }

  async queue(name: string, options: amqp.Options.AssertQueue = {}): Promise<void> {
    await (await this.channel()).assertQueue(name, { durable: true, ...options });
  }

  async bind(queue: string, exchange: string, key: string): Promise<void> {
    await (await this.channel()).bindQueue(queue, exchange, key);
  }

  /** Messages ready in a queue (not counting those delivered and unacknowledged). */
  async count(queue: string): Promise<number> {
    return (await (await this.channel()).checkQueue(queue)).messageCount;
  }

  /** Publishes with confirms (persistent). */
  async publish(queue: string, bodies: (string | Buffer)[], options: amqp.Options.Publish = {}): Promise<void> {
    const channel = (await this.channel()) as amqp.ConfirmChannel;
    for (const body of bodies) channel.sendToQueue(queue, Buffer.isBuffer(body) ? body : Buffer.from(body), { persistent: true, ...options });
    await channel.waitForConfirms();
  }

  /** Takes every message of a queue (acknowledging them). */
  async drain(queue: string): Promise<ConsumeMessage[]> {
    const channel = await this.channel();
    const taken: ConsumeMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) return taken;
      taken.push(message as unknown as ConsumeMessage);
    }
  }

  async delete(...queues: string[]): Promise<void> {
    for (const queue of queues) {
      try {
        await (await this.channel()).deleteQueue(queue);
      } catch {
        // gone already
      }
    }
  }

  async close(): Promise<void> {
    const model = this.#model;
    this.#model = undefined;
    this.#channel = undefined;
    await model?.close().catch(() => {});
  }
}

const exec = promisify(execFile);

/** The rig's own script: `restart` (down, then up, data kept) or `up` RabbitMQ from inside a test. */
export async function rabbitmq(verb: "restart" | "up" | "status"): Promise<string> {
  const { stdout, stderr } = await exec("bash", [`${REPO_ROOT}tooling/servers/servers.sh`, verb, "rabbitmq"], { timeout: 300_000 });
  return `${stdout}${stderr}`;
}


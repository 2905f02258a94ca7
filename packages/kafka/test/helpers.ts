import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import kafkajs from "kafkajs";
import type { Admin, IHeaders, Kafka } from "kafkajs";
import { PumpProcess as ChildPump } from "@pump/test-servers/process";

export { createApp, runApp, settlements, UnitTestSink, UnitTestSource } from "@pump/core/testing";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** A topic, group... name of its own for this run. */
export function unique(prefix: string): string {
  return `pump-kafka-${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Polls `condition` every `intervalMs`, at most `tries` times (so a broken test cannot hang; the
 * bound is generous — it is never an expectation about speed).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1200, intervalMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/** A plain kafkajs client for the tests' own producing, reading and checking (independent of the package). */
export function testKafka(brokers: string): Kafka {
  return new kafkajs.Kafka({ clientId: "pump-kafka-test", brokers: brokers.split(","), logLevel: kafkajs.logLevel.NOTHING });
}

export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(kafka: Kafka, topic: string, numPartitions = 1): Promise<void> {
  await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true }));
}

export async function produce(
  kafka: Kafka,
  topic: string,
  messages: { key?: string | Buffer | null; value: string | Buffer | null; headers?: IHeaders; partition?: number }[],
): Promise<void> {
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 5000) await producer.send({ topic, messages: messages.slice(i, i + 5000) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Committed offsets of a group on a topic, summed over partitions (-1, "none", counts as 0); -1 when
 * the broker cannot answer yet (its group coordinator still loads after a start), so that polls go on.
 */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  try {
    const offsets = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    return offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } catch {
    return -1;
  }
}

/** The end offsets (high watermarks) of a topic, summed over partitions: where a group that read everything has committed. */
export async function endOffsetsTotal(kafka: Kafka, topic: string): Promise<number> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** True once the group has committed every partition of the topic up to its end. */
export async function committedToEnd(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  try {
    return (await committedTotal(kafka, groupId, topic)) === (await endOffsetsTotal(kafka, topic));
  } catch {
    return false;
  }
}

export interface Received {
  value: string | null;
  key: string | null;
  headers: Record<string, string | string[]>;
  partition: number;
  offset: number;
}

/** Reads a topic from the beginning (a group of its own) and keeps every record it sees. */
export class TopicReader {
  readonly records: Received[] = [];
  readonly #consumer;
  readonly #topic: string;

  constructor(kafka: Kafka, topic: string) {
    this.#topic = topic;
    this.#consumer = kafka.consumer({ groupId: unique("reader"), maxWaitTimeInMs: 200 });
  }

  async start(): Promise<this> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic: this.#topic, fromBeginning: true });
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          if (v === undefined) continue;
          headers[k] = Array.isArray(v) ? v.map(String) : String(v);
        }
        this.records.push({
          value: message.value === null ? null : message.value.toString(),
          key: message.key === null ? null : message.key.toString(),
          headers,
          partition,
          offset: Number(message.offset),
        });
      },
    });
    return this;
  }

  /** Each value and how many times it was read. */
  counts(): Map<string | null, number> {
    const counts = new Map<string | null, number>();
    for (const r of this.records) counts.set(r.value, (counts.get(r.value) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect();
  }
}

/** A fixture pump run as a child process: `script` is a file of test/fixtures, or an absolute path. */
export class PumpProcess extends ChildPump {
  constructor(script: string, env: Record<string, string>, args: string[] = []) {
    super(script.startsWith("/") ? script : FIXTURES + script, { ...env, KAFKAJS_NO_PARTITIONER_WARNING: "1" }, args);
  }
}

/** The rig's own scripts (tooling/servers): stop or start the broker inside a test. */
export function kafkaService(verb: "stop" | "up" | "status"): { ok: boolean; output: string } {
  const result = spawnSync("bash", [`${REPO_ROOT}tooling/servers/services/kafka.sh`, verb], { encoding: "utf8", timeout: 180_000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}


// Kafka → Kafka: a consumer group reads a multi-partition input topic from the beginning and writes
// every record, bytes as they are (what KafkaSource and KafkaSink do without a processor), to an
// output topic of its own, acks=all. The clock stops when all N records were acknowledged by the
// broker and the input offsets committed. Baseline: a plain kafkajs relay, `consumer.run({ eachBatch })`
// with `producer.send`s of at most the sink's `batch.num.messages` records per fetched batch, one
// at a time as the sink sends, and kafkajs' commit after each batch. Pump: KafkaSource →
// KafkaSink over one KafkaConnection, their defaults. Both read the output topic back afterwards.
import { Pipeline } from "@pump/core";
import { KafkaConnection, KafkaSink, KafkaSource } from "@pump/kafka";
import kafkajs from "kafkajs";
import type { Admin, Kafka, Message } from "kafkajs";
import { SEED } from "../../config.ts";
import { Prng } from "../../prng.ts";
import { createApp, runPipelinesUntil, signal } from "../../pump.ts";
import type { Params, RunOutput, Workload } from "../../workload.ts";
import { judgeAgainstClient } from "./target.ts";
import { makeRecord } from "../ndjson.ts";
import { Checksum } from "./checksum.ts";

const { Kafka: KafkaClient, Partitioners, logLevel } = kafkajs;

/** Every topic and group of this workload starts with it (a leftover of a killed run is recognisable). */
const PREFIX = "pump-bench-kafka";
const PARTITIONS = 4;
/** Records per send while filling the input topic, and sends in flight. */
const FILL_BATCH = 5000;
const FILL_CONCURRENCY = 4;
/** The source's `fetch_wait_max_ms`: the baseline's consumer waits as long. */
const FETCH_WAIT_MS = Number(KafkaSource.ConfigDefaults.fetch_wait_max_ms);
/** The sink's `batch.num.messages`: the baseline sends a fetched batch in sends of at most as many records. */
const SEND_MAX = Number(KafkaSink.ConfigDefaults["batch.num.messages"]);

interface KafkaParams {
  events: number;
  brokers: string;
  input: string;
  /** Input value bytes. */
  bytes: number;
  /** `count/crc32 sum` of the input values: what each output topic must hold. */
  expected: string;
}

function client(brokers: string, clientId: string): Kafka {
  return new KafkaClient({ clientId, brokers: brokers.split(","), logLevel: logLevel.NOTHING });
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topics of this workload that `which` picks (the bench runs under the kafka lock: no other run owns them). */
async function deleteTopics(kafka: Kafka, which: (topic: string) => boolean): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX) && which(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}

/** The input topic: `events` seeded JSON records (~250 B, W1's records) keyed by their user. */
async function prepare(events: number): Promise<Params> {
  const brokers = process.env.KAFKA_BROKERS!;
  const kafka = client(brokers, `${PREFIX}-prepare`);
  // leftovers of a run that was killed before its cleanup
  await deleteTopics(kafka, () => true);
  const input = `${PREFIX}-in-${process.pid}-${Date.now()}`;
  await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic: input, numPartitions: PARTITIONS }], waitForLeaders: true }));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const prng = new Prng(SEED);
  const checksum = new Checksum();
  let bytes = 0;
  let next = 0;
  const fill = async (): Promise<void> => {
    while (next < events) {
      const messages: Message[] = [];
      for (const end = Math.min(next + FILL_BATCH, events); next < end; next++) {
        const record = makeRecord(prng, next);
        const value = Buffer.from(JSON.stringify(record));
        bytes += value.length;
        checksum.add(value);
        messages.push({ key: record.user as string, value });
      }
      await producer.send({ topic: input, messages, acks: -1 });
    }
  };
  try {
    await Promise.all(Array.from({ length: FILL_CONCURRENCY }, fill));
  } finally {
    await producer.disconnect();
  }
  const params: KafkaParams = { events, brokers, input, bytes, expected: checksum.toString() };
  return { ...params };
}

async function createOutput(kafka: Kafka, variant: string): Promise<string> {
  const topic = `${PREFIX}-out-${variant}-${process.pid}-${Date.now()}`;
  await withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true }));
  return topic;
}

/**
 * After the clock stopped: reads the output topic from the beginning (up to its end offsets), checks
 * it holds the input's records, then deletes the topic and the groups.
 */
function verify(kafka: Kafka, p: KafkaParams, output: string, groups: string[]): () => Promise<{ check: string }> {
  return async () => {
    const total = await withAdmin(kafka, async (admin) => (await admin.fetchTopicOffsets(output)).reduce((sum, o) => sum + Number(o.high), 0));
    const reader = `${output}-reader`;
    const consumer = kafka.consumer({ groupId: reader, maxWaitTimeInMs: 100 });
    const checksum = new Checksum();
    const all = signal();
    await consumer.connect();
    await consumer.subscribe({ topics: [output], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) checksum.add(m.value);
        if (checksum.count >= total) all.resolve();
      },
    });
    if (total > 0) await all.promise;
    await consumer.disconnect();
    await withAdmin(kafka, async (admin) => {
      await admin.deleteTopics({ topics: [output] });
      await admin.deleteGroups([...groups, reader]).catch(() => {});
    });
    const check = checksum.toString();
    if (check !== p.expected) throw new Error(`the output topic holds ${check} (records/crc32 sum), the input ${p.expected}`);
    return { check };
  };
}

async function baseline(p: KafkaParams): Promise<RunOutput> {
  const kafka = client(p.brokers, `${PREFIX}-baseline`);
  const output = await createOutput(kafka, "baseline");
  const groupId = `${output}-group`;
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: FETCH_WAIT_MS });
  const done = signal();
  let produced = 0;
  const committed = new Map<number, number>();
  let committedTotal = 0;
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
    for (const { partitions } of payload.topics) {
      for (const { partition, offset } of partitions) {
        committedTotal += Number(offset) - (committed.get(partition) ?? 0);
        committed.set(partition, Number(offset));
      }
    }
    if (committedTotal === p.events) done.resolve();
  });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topics: [p.input], fromBeginning: true });
  await consumer.run({
    // kafkajs resolves the batch's last offset when this returns and commits it (autoCommit)
    eachBatch: async ({ batch }) => {
      const records = batch.messages;
      for (let i = 0; i < records.length; i += SEND_MAX) {
        const messages: Message[] = [];
        for (let k = i; k < Math.min(i + SEND_MAX, records.length); k++) {
          const m = records[k]!;
          messages.push({ key: m.key, value: m.value, headers: m.headers });
        }
        await producer.send({ topic: output, messages, acks: -1 });
        produced += messages.length;
      }
    },
  });
  await done.promise;
  await consumer.disconnect();
  await producer.disconnect();
  return { events: produced, bytes: p.bytes, after: verify(kafka, p, output, [groupId]) };
}

async function pump(p: KafkaParams): Promise<RunOutput> {
  const kafka = client(p.brokers, `${PREFIX}-pump`);
  const output = await createOutput(kafka, "pump");
  const groupId = `${output}-group`;
  const app = createApp();
  const connection = new KafkaConnection(app, "KafkaConnection", { config: { bootstrap_servers: p.brokers } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "KafkaToKafka");
  const source = new KafkaSource(app, pipeline, connection, { config: { topic: p.input, group_id: groupId } });
  const sink = new KafkaSink(app, pipeline, connection, { config: { topic: output } });
  pipeline.build(source, sink);
  // done once every record was acknowledged and every input partition committed to its end
  await runPipelinesUntil(app, [pipeline], () => {
    let committed = 0;
    for (const offset of source.committed.values()) committed += offset;
    return sink.stats.delivered >= p.events && committed >= p.events;
  });
  return {
    events: sink.stats.delivered,
    bytes: p.bytes,
    extra: { sinkRetries: sink.stats.retries, sinkThrottled: sink.stats.throttled },
    after: verify(kafka, p, output, [groupId]),
  };
}

export const kafka: Workload = {
  id: "kafka",
  title: "Kafka → pump → Kafka",
  description: `A consumer group reads a ${PARTITIONS}-partition topic of seeded JSON records (~250 B, keyed) from the beginning and writes each record's bytes (key and headers kept) to an output topic of its own, acks=all; done when all were acknowledged and the input offsets committed. Baseline: kafkajs consumer.run({ eachBatch }) sending each fetched batch in producer.sends of at most ${SEND_MAX} records (the sink's batch.num.messages), one at a time, and kafkajs' commit after each batch. Pump: KafkaSource → KafkaSink, their defaults. Both output topics are read back (count + CRC-32 sum).`,
  requires: "KAFKA_BROKERS",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "kafkajs loop", pump: "pipeline" },
  events: 1_000_000,
  prepare: (events) => prepare(events),
  run: (variant, params) => (variant === "baseline" ? baseline(params as unknown as KafkaParams) : pump(params as unknown as KafkaParams)),
  cleanup: async (params) => deleteTopics(client((params as unknown as KafkaParams).brokers, `${PREFIX}-cleanup`), (t) => t === params.input),
  judge: judgeAgainstClient,
};

// The AMQP connector against RabbitMQ, both ways, with W1's seeded ~250-byte JSON records as message
// bodies, persistent, into durable queues of their own (one per run, deleted after it).
//
// amqp-publish: baseline = amqplib's ConfirmChannel in a loop, at most the sink's `max_unconfirmed`
// publishes awaiting their confirm (each confirm lets the next one go), waiting for 'drain' when
// publish() returns false. Pump = a source making the bodies in batches of 1024, each with a tracked
// delivery → AMQPSink (publisher confirms: the delivery settles when the broker confirmed the message);
// done when every delivery settled. After the clock both queues are read back (count + CRC-32 sum).
//
// amqp-consume: a queue prefilled before the clock (by prepare(), then refilled after each run's clock
// stopped for the next run). Baseline = amqplib's consume with the source's prefetch and an ack per
// message. Pump = AMQPSource (its defaults: the same prefetch, an ack per message once settled) → a
// sink checksumming the bodies; done when every message was acknowledged.
import { once } from "node:events";
import { Pipeline, Sink, type Context } from "@pump/core";
import { AMQPConnection, AMQPSink, AMQPSource } from "@pump/amqp";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { SEED } from "../../config.ts";
import { Prng } from "../../prng.ts";
import { createApp, runPipelinesUntil, signal } from "../../pump.ts";
import type { RunOutput, Workload } from "../../workload.ts";
import { makeRecord } from "../ndjson.ts";
import { Checksum } from "./checksum.ts";
import { BATCH, runSeeded } from "./seeded-source.ts";
import { judgeAgainstClient } from "./target.ts";

const PREFIX = "pump-bench-amqp";
/** The sink's confirm window: the baseline keeps as many publishes unconfirmed at most. */
const MAX_UNCONFIRMED = Number(AMQPSink.ConfigDefaults.max_unconfirmed);
/** The source's prefetch: the baseline's consumer asks for as many. */
const PREFETCH = Number(AMQPSource.ConfigDefaults.prefetch_count);
/** What the sink publishes with its defaults (content_type, delivery_mode 2). */
const PUBLISH_OPTIONS = { contentType: String(AMQPSink.ConfigDefaults.content_type), deliveryMode: 2 } as const;
/** A queue left behind by an interrupted run disappears after 10 minutes unused. */
const QUEUE_OPTIONS = { durable: true, expires: 600_000 } as const;

interface AMQPParams {
  events: number;
  url: string;
  /** Body bytes of the N messages. */
  bytes: number;
  /** `count/crc32 sum` of the bodies: what every queue read back and every consumer must come to. */
  expected: string;
  /** amqp-consume: the prefilled queue. */
  queue?: string;
}

/** The bodies, seeded: every variant and run makes the same ones in the same order. */
function* bodies(total: number): Generator<Buffer> {
  const prng = new Prng(SEED);
  for (let i = 0; i < total; i++) yield Buffer.from(JSON.stringify(makeRecord(prng, i)));
}

async function connect(url: string): Promise<ChannelModel> {
  const model = await amqp.connect(url);
  model.on("error", () => {});
  return model;
}

async function createQueue(model: ChannelModel, name: string): Promise<void> {
  const channel = await model.createChannel();
  await channel.assertQueue(name, QUEUE_OPTIONS);
  await channel.close();
}

/** Publishes the bodies with confirms, at most MAX_UNCONFIRMED awaiting their confirm; the count confirmed (nacked ones are not). */
async function publishAll(model: ChannelModel, queue: string, total: number): Promise<{ confirmed: number; nacked: number }> {
  const channel = await model.createConfirmChannel();
  let unconfirmed = 0;
  let confirmed = 0;
  let nacked = 0;
  let room: PromiseWithResolvers<void> | undefined;
  const onConfirm = (error: unknown): void => {
    if (error === null || error === undefined) confirmed++;
    else nacked++;
    unconfirmed--;
    if (room !== undefined) {
      room.resolve();
      room = undefined;
    }
  };
  for (const body of bodies(total)) {
    if (unconfirmed >= MAX_UNCONFIRMED) {
      // a confirm makes room (only this loop adds to the window)
      room = Promise.withResolvers<void>();
      await room.promise;
    }
    unconfirmed++;
    if (!channel.publish("", queue, body, PUBLISH_OPTIONS, onConfirm)) await once(channel, "drain");
  }
  await channel.waitForConfirms();
  await channel.close();
  return { confirmed, nacked };
}

/** Takes every message of the queue without acks, checksumming the bodies, until `expect` came. */
async function readQueue(model: ChannelModel, queue: string, expect: number): Promise<Checksum> {
  const channel = await model.createChannel();
  const checksum = new Checksum();
  const all = signal();
  if (expect === 0) all.resolve();
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      checksum.add(message.content);
      if (checksum.count === expect) all.resolve();
    },
    { noAck: true },
  );
  await all.promise;
  await channel.close();
  return checksum;
}

async function deleteQueue(model: ChannelModel, queue: string): Promise<void> {
  const channel: Channel = await model.createChannel();
  await channel.deleteQueue(queue);
  await channel.close();
}

/** After the clock (amqp-publish): what the queue holds, read back, checked against the input; then the queue goes. */
function readBack(model: ChannelModel, p: AMQPParams, queue: string): () => Promise<{ check: string; extra: Record<string, unknown> }> {
  return async () => {
    try {
      const channel = await model.createChannel();
      const { messageCount } = await channel.checkQueue(queue);
      await channel.close();
      const check = (await readQueue(model, queue, messageCount)).toString();
      if (check !== p.expected) throw new Error(`the queue holds ${check} (messages/crc32 sum), the input ${p.expected}`);
      return { check, extra: { queued: messageCount } };
    } finally {
      await deleteQueue(model, queue).catch(() => {});
      await model.close().catch(() => {});
    }
  };
}

async function describeInput(total: number): Promise<{ bytes: number; expected: string }> {
  const checksum = new Checksum();
  let bytes = 0;
  for (const body of bodies(total)) {
    bytes += body.length;
    checksum.add(body);
  }
  return { bytes, expected: checksum.toString() };
}

function amqpUrl(): string {
  const value = process.env.AMQP_URL;
  if (value === undefined || value === "") throw new Error("AMQP_URL is not set");
  return value;
}

// ---- amqp-publish ----

async function publishBaseline(p: AMQPParams): Promise<RunOutput> {
  const model = await connect(p.url);
  const queue = `${PREFIX}-publish-baseline-${process.pid}`;
  await createQueue(model, queue);
  const { confirmed, nacked } = await publishAll(model, queue, p.events);
  return { events: confirmed, bytes: p.bytes, extra: { nacked, queue }, after: readBack(model, p, queue) };
}

async function publishPump(p: AMQPParams): Promise<RunOutput> {
  const model = await connect(p.url);
  const queue = `${PREFIX}-publish-pump-${process.pid}`;
  await createQueue(model, queue);
  const app = createApp();
  const connection = new AMQPConnection(app, "AMQPConnection", { config: { url: p.url } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "Publish");
  const sink = new AMQPSink(app, pipeline, connection, { config: { exchange: "", routing_key: queue } });
  const t = await runSeeded(app, pipeline, sink, bodies(p.events), p.events);
  return {
    events: sink.stats.confirmed,
    bytes: p.bytes,
    extra: { failed: t.failed(), retried: sink.stats.retried, republished: sink.stats.republished, throttled: sink.stats.throttled, maxBuffered: sink.stats.maxBuffered, queue },
    after: readBack(model, p, queue),
  };
}

// ---- amqp-consume ----

/** After the clock (amqp-consume): the consumed checksum against the input, then the queue refilled for the next run. */
function refill(model: ChannelModel, p: AMQPParams, consumed: Checksum): () => Promise<{ check: string }> {
  return async () => {
    try {
      const check = consumed.toString();
      if (check !== p.expected) throw new Error(`consumed ${check} (messages/crc32 sum), the queue held ${p.expected}`);
      const channel = await model.createChannel();
      await channel.purgeQueue(p.queue!);
      await channel.close();
      const { confirmed } = await publishAll(model, p.queue!, p.events);
      if (confirmed !== p.events) throw new Error(`refilling the queue: ${confirmed} of ${p.events} confirmed`);
      return { check };
    } finally {
      await model.close().catch(() => {});
    }
  };
}

async function consumeBaseline(p: AMQPParams): Promise<RunOutput> {
  const model = await connect(p.url);
  const channel = await model.createChannel();
  await channel.prefetch(PREFETCH);
  const checksum = new Checksum();
  const all = signal();
  await channel.consume(
    p.queue!,
    (message) => {
      if (message === null) return;
      checksum.add(message.content);
      channel.ack(message);
      if (checksum.count === p.events) all.resolve();
    },
    { noAck: false },
  );
  await all.promise;
  // the acks are written once the channel closes (close waits for what is queued before it)
  await channel.close();
  return { events: checksum.count, bytes: p.bytes, after: refill(model, p, checksum) };
}

/** Checksums the bodies it gets. */
class ChecksumSink extends Sink<Buffer> {
  readonly checksum = new Checksum();

  process(_context: Context, event: Buffer): void {
    this.checksum.add(event);
  }
}

async function consumePump(p: AMQPParams): Promise<RunOutput> {
  const model = await connect(p.url);
  const app = createApp();
  const connection = new AMQPConnection(app, "AMQPConnection", { config: { url: p.url } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "Consume");
  const source = new AMQPSource(app, pipeline, connection, { config: { queue: p.queue! } });
  const sink = new ChecksumSink(app, pipeline);
  pipeline.build(source, sink);
  await runPipelinesUntil(app, [pipeline], () => source.stats.acked >= p.events);
  return {
    events: source.stats.acked,
    bytes: p.bytes,
    extra: { received: source.stats.received, redelivered: source.stats.redelivered, requeued: source.stats.requeued },
    after: refill(model, p, sink.checksum),
  };
}

const DEFAULT_EVENTS = 100_000;

export const amqpPublish: Workload = {
  id: "amqp-publish",
  title: "pump → RabbitMQ",
  description: `N seeded bodies (W1's records, ~250 B of JSON) published persistent to a durable queue of their own per run, with publisher confirms. Baseline: amqplib's ConfirmChannel.publish in a loop, at most ${MAX_UNCONFIRMED} awaiting their confirm (the sink's max_unconfirmed), waiting for 'drain' when publish() says so. Pump: a source making the bodies in batches of ${BATCH}, each with a tracked delivery → AMQPSink (its defaults), done when every delivery settled (on the broker's confirm). After the clock: the queue read back (count + CRC-32 sum) and deleted.`,
  requires: "AMQP_URL",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "amqplib confirms", pump: "AMQPSink" },
  events: DEFAULT_EVENTS,
  prepare: async (events) => ({ url: amqpUrl(), ...(await describeInput(events)) }),
  run: (variant, params) => (variant === "baseline" ? publishBaseline(params as unknown as AMQPParams) : publishPump(params as unknown as AMQPParams)),
  judge: judgeAgainstClient,
};

export const amqpConsume: Workload = {
  id: "amqp-consume",
  title: "RabbitMQ → pump",
  description: `A durable queue prefilled before the clock with N seeded persistent bodies (W1's records, ~250 B). Baseline: amqplib's consume with prefetch ${PREFETCH} (the source's default) and an ack per message. Pump: AMQPSource (its defaults: prefetch ${PREFETCH}, each message acked once settled) → a sink checksumming the bodies; done when all were acked. Both check count + CRC-32 sum of what they consumed; the queue is refilled after the clock for the next run.`,
  requires: "AMQP_URL",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "amqplib consume", pump: "AMQPSource" },
  events: DEFAULT_EVENTS,
  prepare: async (events) => {
    const url = amqpUrl();
    const queue = `${PREFIX}-consume-${process.pid}`;
    const model = await connect(url);
    try {
      await createQueue(model, queue);
      const { confirmed } = await publishAll(model, queue, events);
      if (confirmed !== events) throw new Error(`filling the queue: ${confirmed} of ${events} confirmed`);
    } finally {
      await model.close().catch(() => {});
    }
    return { url, queue, ...(await describeInput(events)) };
  },
  cleanup: async (params) => {
    const model = await connect(params.url as string);
    try {
      await deleteQueue(model, params.queue as string);
    } finally {
      await model.close().catch(() => {});
    }
  },
  run: (variant, params) => (variant === "baseline" ? consumeBaseline(params as unknown as AMQPParams) : consumePump(params as unknown as AMQPParams)),
  judge: judgeAgainstClient,
};

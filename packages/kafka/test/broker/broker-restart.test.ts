import { setTimeout as delay } from "node:timers/promises";
import { formatRecord, logging, Pipeline, Processor, type Context, type LogRecord } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { KafkaConnection, KafkaSink, KafkaSource } from "../../src/index.js";
import { committedTotal, committedToEnd, createApp, createTopic, kafkaService, produce, runApp, testKafka, TopicReader, unique, until } from "../helpers.js";

/** Slows the stream down so the broker can be restarted while the pump works. */
class Pace extends Processor<Buffer | null, Buffer | null> {
  #n = 0;
  process(_context: Context, event: Buffer | null): Buffer | null | Promise<Buffer | null> {
    return ++this.#n % 20 === 0 ? delay(10).then(() => event) : event;
  }
}

function copyPump(brokers: string, input: string, output: string) {
  // Few retries inside the client, so that the connector's own retrying is what rides out the outage.
  const app = createApp(`[connection:KafkaConnection]\nbootstrap_servers=${brokers}\nretries=1\nretry_backoff_ms=100\n`);
  app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
  const pipeline = new Pipeline(app, "Copy");
  const source = new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: input, group_id: `${input}-g`, sleep_on_error: 1 } });
  // A bounded delivery timeout, so that a stop never waits minutes for a broker that is gone.
  const sink = new KafkaSink(app, pipeline, "KafkaConnection", { config: { topic: output, "delivery.timeout.ms": 60_000 } });
  pipeline.build(source, new Pace(app, pipeline), sink);
  app.pumpService.addPipeline(pipeline);
  return { app, pipeline, source, sink };
}

/** Stops the broker with the rig's script, and checks that it answers no more. */
function down(): void {
  const stop = kafkaService("stop");
  expect(stop.ok, stop.output).toBe(true);
  const status = kafkaService("status");
  expect(status.ok, `the broker still answers after stop: ${stop.output} ${status.output}`).toBe(false);
}

function up(): void {
  const result = kafkaService("up");
  if (!result.ok) throw new Error(`the broker did not start again:\n${result.output}`);
}

describeWithServer("The broker down at start, and restarted mid-stream", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);
  // Whatever happens in the tests, the broker runs again afterwards (other suites share it).
  afterAll(() => up());

  it("a pump started while the broker is down waits, connects when it is up, and copies everything", async () => {
    const input = unique("down-in");
    const output = unique("down-out");
    await createTopic(kafka, input, 2);
    await createTopic(kafka, output, 2);
    const records: LogRecord[] = [];
    logging.setWriter((record) => records.push(record));
    logging.setLevel("info");
    let pump: ReturnType<typeof runApp> | undefined;
    const { app, source } = copyPump(brokers, input, output);
    try {
      down();
      pump = runApp(app);
      await pump.started; // starting needs no broker
      await until(() => records.some((r) => r.message.startsWith("Cannot consume from Kafka yet")), "the source to report that it waits for the broker");
      expect(source.assignment).toEqual([]);
    } finally {
      up();
    }
    const N = 3000;
    await produce(kafka, input, Array.from({ length: N }, (_, n) => ({ key: `k${n % 13}`, value: `m${n}` })));
    const reader = await new TopicReader(kafka, output).start();
    try {
      await until(() => reader.counts().size >= N, "every record copied");
      await until(() => committedToEnd(kafka, `${input}-g`, input), "the offsets committed", 300);
      expect(await pump.stop()).toBe(0);
      expect(reader.counts().size).toBe(N);
    } catch (error) {
      const lines = records.filter((r) => r.level !== "debug" && !r.message.includes("ECONNREFUSED")).slice(-60);
      const committed = await committedTotal(kafka, `${input}-g`, input);
      console.log(`${new Date().toISOString()} ${String(error)}; copied ${reader.counts().size} of ${N}, committed ${committed}, by the source ${JSON.stringify([...source.committed])}, ${JSON.stringify(source.stats)}; the pump's log:\n${lines.map(formatRecord).join("\n")}`);
      throw error;
    } finally {
      await pump.stop();
      await reader.stop();
    }
  });

  it("a pump whose broker restarts mid-stream reconnects and goes on: nothing lost", async () => {
    const input = unique("restart-in");
    const output = unique("restart-out");
    await createTopic(kafka, input, 3);
    await createTopic(kafka, output, 3);
    const N = 10_000;
    await produce(kafka, input, Array.from({ length: N }, (_, n) => ({ key: `k${n % 31}`, value: `m${n}` })));
    const records: LogRecord[] = [];
    logging.setWriter((record) => records.push(record));
    logging.setLevel("info");
    const { app, sink, source } = copyPump(brokers, input, output);
    const pump = runApp(app);
    try {
      await until(() => sink.stats.delivered >= N / 5, "a fifth of the records copied");
      try {
        down();
        const deliveredWhileDown = sink.stats.delivered;
        await delay(2000); // the pump meets the dead broker: sends and fetches fail and are retried
        expect(sink.stats.delivered - deliveredWhileDown).toBeLessThan(N);
      } finally {
        up();
      }
      const reader = await new TopicReader(kafka, output).start();
      try {
        await until(() => reader.counts().size >= N, "every record copied after the restart");
        await until(() => committedToEnd(kafka, `${input}-g`, input), "the offsets committed", 300);
        expect(await pump.stop()).toBe(0);
        const counts = reader.counts();
        const lost = Array.from({ length: N }, (_, n) => `m${n}`).filter((v) => !counts.has(v));
        console.log(`broker restart: ${N} produced, ${lost.length} lost, ${reader.records.length - counts.size} duplicates, sink retries ${sink.stats.retries}, source ${JSON.stringify(source.stats)}`);
        expect(lost).toEqual([]);
        expect(sink.stats.retries).toBeGreaterThan(0); // the outage was met, and ridden out
        expect(sink.stats.failed).toBe(0);
      } catch (error) {
        const lines = records.filter((r) => r.level !== "debug").slice(-80);
        console.log(`copied ${reader.counts().size} of ${N}; sink ${JSON.stringify(sink.stats)} buffered ${sink.buffered}; source ${JSON.stringify(source.stats)} assignment ${JSON.stringify(source.assignment)} committed ${JSON.stringify([...source.committed])}; ready ${app.pumpService.pipelines.get("Copy")?.isReady()}\n${lines.map(formatRecord).join("\n")}`);
        throw error;
      } finally {
        await reader.stop();
      }
    } finally {
      await pump.stop();
    }
  });
});

import { Pipeline, Processor, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { KafkaConnection, KafkaSink, KafkaSource } from "../../src/index.js";
import { committedTotal, committedToEnd, createApp, createTopic, produce, runApp, testKafka, TopicReader, unique, until } from "../helpers.js";

/** A JSON parser: invalid JSON throws (or, once `lenient`, the record is dropped). */
class ParseJson extends Processor<Buffer | null, unknown> {
  lenient = false;
  process(_context: Context, event: Buffer | null): unknown {
    try {
      return JSON.parse(event!.toString("utf8"));
    } catch (error) {
      if (this.lenient) return null;
      throw error;
    }
  }
}

class SoftPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

function pump(brokers: string, input: string, output: string, soft: boolean) {
  const app = createApp(`[connection:KafkaConnection]\nbootstrap_servers=${brokers}\n`);
  app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
  const pipeline = soft ? new SoftPipeline(app, "Parse") : new Pipeline(app, "Parse");
  const parser = new ParseJson(app, pipeline);
  const source = new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: input, group_id: `${input}-g` } });
  pipeline.build(source, parser, new KafkaSink(app, pipeline, "KafkaConnection", { config: { topic: output } }));
  app.pumpService.addPipeline(pipeline);
  return { app, pipeline, parser, source };
}

const N = 100;
const records = (bad: Set<number>): { key: string; value: string }[] =>
  Array.from({ length: N }, (_, n) => ({ key: `k${n}`, value: bad.has(n) ? `{"n": ${n}, oops` : JSON.stringify({ n }) }));
const validOnes = (bad: Set<number>): number[] => Array.from({ length: N }, (_, n) => n).filter((n) => !bad.has(n));

describeWithServer("Records that do not parse (invalid JSON) against the broker", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);

  it("soft errors: the bad records are dropped and counted, the rest is copied, every offset is committed", async () => {
    const input = unique("bad-soft-in");
    const output = unique("bad-soft-out");
    await createTopic(kafka, input, 1);
    await createTopic(kafka, output, 1);
    const BAD = new Set([10, 40, 77]);
    await produce(kafka, input, records(BAD));
    const { app, pipeline } = pump(brokers, input, output, true);
    const run = runApp(app);
    const reader = await new TopicReader(kafka, output).start();
    try {
      await until(() => committedToEnd(kafka, `${input}-g`, input), "every offset committed");
      await until(() => reader.counts().size === N - BAD.size, "the valid records copied");
      expect(pipeline.metrics.warning).toBe(BAD.size);
      expect(pipeline.isError()).toBe(false);
      expect(await run.stop()).toBe(0);
      const copied = [...reader.counts().keys()].map((v) => (JSON.parse(v!) as { n: number }).n).toSorted((a, b) => a - b);
      expect(copied).toEqual(validOnes(BAD));
    } finally {
      await run.stop();
      await reader.stop();
    }
  });

  it("a hard error stops the pipeline; nothing is committed past the bad record; once cleared it is read again", async () => {
    const input = unique("bad-hard-in");
    const output = unique("bad-hard-out");
    await createTopic(kafka, input, 1);
    await createTopic(kafka, output, 1);
    const BAD = new Set([40]);
    await produce(kafka, input, records(BAD));
    const { app, pipeline, parser, source } = pump(brokers, input, output, false);
    const run = runApp(app);
    const reader = await new TopicReader(kafka, output).start();
    const committed = () => committedTotal(kafka, `${input}-g`, input);
    try {
      // The bad record (offset 40) stops the pipeline. What came before it is copied and committed.
      await until(() => pipeline.isError(), "the hard error");
      expect(String(pipeline.error?.error)).toMatch(/JSON/);
      await until(async () => (await committed()) === 40, "offsets 0-39 committed");
      await until(() => reader.counts().size === 40, "records 0-39 copied");
      expect(source.stats.failed).toBe(1);

      // Cleared while the parser still fails on it: the records after it go on, then the partition is read
      // again from offset 40 and the pipeline stops on it again. The commit never passes it.
      pipeline.clearError();
      await until(() => source.stats.rewinds === 1 && pipeline.isError(), "the record read again, and failing again");
      expect(await committed()).toBe(40);
      expect(pipeline.metrics.error).toBe(2);

      // The operator fixes the cause (here: the parser drops what it cannot read) and clears the error.
      parser.lenient = true;
      pipeline.clearError();
      await until(async () => (await committed()) === N, "every offset committed");
      await until(() => reader.counts().size === N - BAD.size, "every valid record copied");
      expect(await run.stop()).toBe(0);
      const counts = reader.counts();
      const copied = [...counts.keys()].map((v) => (JSON.parse(v!) as { n: number }).n).toSorted((a, b) => a - b);
      expect(copied).toEqual(validOnes(BAD));
      console.log(`hard error test: ${reader.records.length - counts.size} duplicates (records after the bad one, read again), ${source.stats.rewinds} rewinds`);
    } finally {
      await run.stop();
      await reader.stop();
    }
  });
});

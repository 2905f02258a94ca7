import { Pipeline, Processor, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { KafkaConnection, KafkaKeyFilter, KafkaSink, KafkaSource, KafkaTopicInitializer } from "../../src/index.js";
import { UnitTestSink, committedTotal, committedToEnd, createApp, createTopic, produce, runApp, testKafka, TopicReader, unique, until, withAdmin } from "../helpers.js";

/** Sends events whose JSON says route "b" to another topic, by setting context.kafka_topic. */
class Route extends Processor<Buffer | null, Buffer | null> {
  target = "";
  process(context: Context, event: Buffer | null): Buffer | null {
    const { route } = JSON.parse(event!.toString()) as { route: string };
    if (route === "b") context.kafka_topic = this.target;
    return event;
  }
}

describeWithServer("KafkaSource → KafkaSink against the broker", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);
  const conf = `[connection:KafkaConnection]\nbootstrap_servers=${brokers}\n`;

  it("round-trips records with their keys and headers, routes by context.kafka_topic, keeps per-key order, commits everything", async () => {
    const input = unique("rt-in");
    const outA = unique("rt-a");
    const outB = unique("rt-b");
    await createTopic(kafka, input, 3);
    await createTopic(kafka, outA, 2);
    await createTopic(kafka, outB, 1);
    const N = 600;
    await produce(
      kafka,
      input,
      Array.from({ length: N }, (_, n) => ({
        key: `k${n % 7}`,
        value: JSON.stringify({ n, route: n % 3 === 0 ? "b" : "a" }),
        headers: { trace: `t${n}`, multi: ["x", "y"] },
      })),
    );

    const app = createApp(conf);
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const pipeline = new Pipeline(app, "Copy");
    const route = new Route(app, pipeline);
    route.target = outB;
    pipeline.build(
      new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: input, group_id: `${input}-g`, buffer_size: 100 } }),
      route,
      new KafkaSink(app, pipeline, "KafkaConnection", { config: { topic: outA } }),
    );
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    const readerA = await new TopicReader(kafka, outA).start();
    const readerB = await new TopicReader(kafka, outB).start();
    try {
      await until(() => readerA.records.length + readerB.records.length >= N, "every record copied");
      expect(await pump.stop()).toBe(0);
      expect(await committedTotal(kafka, `${input}-g`, input)).toBe(N);
    } finally {
      await readerA.stop();
      await readerB.stop();
    }
    const all = [...readerA.records, ...readerB.records];
    expect(all).toHaveLength(N);
    for (const r of all) {
      const { n, route: r2 } = JSON.parse(r.value!) as { n: number; route: string };
      expect(r.key).toBe(`k${n % 7}`);
      expect(r.headers).toEqual({ trace: `t${n}`, multi: ["x", "y"] });
      expect(readerB.records.includes(r)).toBe(r2 === "b");
    }
    // One key, one input partition, one output partition: the order of a key's records is kept.
    for (const reader of [readerA, readerB]) {
      const byKey = new Map<string, number[]>();
      for (const r of reader.records.toSorted((x, y) => x.partition - y.partition || x.offset - y.offset)) {
        const list = byKey.get(r.key!) ?? [];
        list.push((JSON.parse(r.value!) as { n: number }).n);
        byKey.set(r.key!, list);
      }
      for (const list of byKey.values()) expect(list).toEqual(list.toSorted((x, y) => x - y));
    }
  });

  it("the sink writes bytes, text, JSON and tombstones; the source reads Buffers (null for a tombstone) with the context keys", async () => {
    const topic = unique("enc");
    await createTopic(kafka, topic, 1);
    const app = createApp(conf);
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const writer = new Pipeline(app, "Write");
    const { UnitTestSource } = await import("../helpers.js");
    const feed = new UnitTestSource(app, writer);
    writer.build(feed, new KafkaSink(app, writer, "KafkaConnection", { config: { topic } }));
    const reader = new Pipeline(app, "Read");
    const collect = new UnitTestSink<Buffer | null>(app, reader);
    reader.build(new KafkaSource(app, reader, "KafkaConnection", { config: { topic, group_id: `${topic}-g` } }), collect);
    app.pumpService.addPipelines(writer, reader);
    const pump = runApp(app);
    await pump.started;
    await until(() => writer.isReady(), "the writer");
    await feed.feed(
      [Buffer.from([0, 255, 10]), "žluťoučký kůň", { a: [1, 2], b: null }, null],
      [{ kafka_key: "bytes", kafka_headers: [["h", "1"], ["h", "2"]] }, { kafka_key: Buffer.from("text") }, { kafka_key: 3 }, { kafka_key: "gone" }],
    );
    await until(() => collect.events.length === 4, "the four records read back");
    expect(await pump.stop()).toBe(0);
    expect(collect.events[0]).toEqual(Buffer.from([0, 255, 10]));
    expect(collect.events[1]!.toString("utf8")).toBe("žluťoučký kůň");
    expect(JSON.parse(collect.events[2]!.toString())).toEqual({ a: [1, 2], b: null });
    expect(collect.events[3]).toBeNull();
    const contexts = collect.contexts;
    expect(contexts.map((c) => (c.kafka_key as Buffer).toString())).toEqual(["bytes", "text", "3", "gone"]);
    expect(contexts[0]!.kafka_headers).toEqual({ h: [Buffer.from("1"), Buffer.from("2")] });
    expect(contexts.map((c) => c.kafka_topic)).toEqual([topic, topic, topic, topic]);
    expect(contexts.map((c) => c.kafka_partition)).toEqual([0, 0, 0, 0]);
    expect(contexts.map((c) => c.kafka_offset)).toEqual([0, 1, 2, 3]);
    for (const c of contexts) expect(typeof c.kafka_timestamp === "number" && c.kafka_timestamp > 1.6e12).toBe(true);
  });

  it("a full sink buffer throttles the pipeline, which the source waits for; nothing is lost", async () => {
    const input = unique("full-in");
    const output = unique("full-out");
    await createTopic(kafka, input, 2);
    await createTopic(kafka, output, 2);
    const N = 5000;
    await produce(kafka, input, Array.from({ length: N }, (_, n) => ({ value: `m${n}`.padEnd(200, ".") })));
    const app = createApp(conf);
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const pipeline = new Pipeline(app, "Copy");
    const sink = new KafkaSink(app, pipeline, "KafkaConnection", {
      config: { topic: output, "watermark.high": 300, "watermark.low": 50, "watermark.high_bytes": 40_000, "watermark.low_bytes": 10_000, "batch.num.messages": 100 },
    });
    pipeline.build(new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: input, group_id: `${input}-g`, buffer_size: 250 } }), sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    const reader = await new TopicReader(kafka, output).start();
    try {
      await until(() => reader.counts().size >= N, "every record copied");
      await until(() => committedToEnd(kafka, `${input}-g`, input), "every offset committed");
      expect(await pump.stop()).toBe(0);
      expect(sink.stats.throttled).toBeGreaterThan(0);
      expect(sink.stats).toMatchObject({ delivered: N, failed: 0 });
      expect(reader.counts().size).toBe(N);
    } finally {
      await pump.stop();
      await reader.stop();
    }
  });

  it("KafkaKeyFilter keeps the chosen keys; the records it drops are committed too", async () => {
    const topic = unique("keys");
    await createTopic(kafka, topic, 2);
    await produce(kafka, topic, Array.from({ length: 100 }, (_, n) => ({ key: n % 10 === 0 ? null : `k${n % 4}`, value: String(n) })));
    const app = createApp(conf);
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const pipeline = new Pipeline(app, "Filter");
    const collect = new UnitTestSink<Buffer | null>(app, pipeline);
    pipeline.build(
      new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic, group_id: `${topic}-g` } }),
      new KafkaKeyFilter(app, pipeline, ["k1", Buffer.from("k3")]),
      collect,
    );
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    const expected = Array.from({ length: 100 }, (_, n) => n).filter((n) => n % 10 !== 0 && (n % 4 === 1 || n % 4 === 3));
    await until(() => collect.events.length === expected.length, "the kept records");
    await until(async () => (await committedTotal(kafka, `${topic}-g`, topic)) === 100, "every offset committed");
    expect(await pump.stop()).toBe(0);
    expect(collect.events.map((e) => Number(e!.toString())).toSorted((a, b) => a - b)).toEqual(expected);
  });

  it("KafkaTopicInitializer creates the missing topics (declared, and those of the pipelines) before sources and sinks use them", async () => {
    const declared = unique("init-declared");
    const fromSource = unique("init-source");
    const fromSink = unique("init-sink");
    const existing = unique("init-existing");
    await createTopic(kafka, existing, 1);
    const app = createApp(
      `${conf}[KafkaTopicInitializer]\ntopics=${declared}:4 ${existing}:5\n[pipeline:P:KafkaSink]\nnum_partitions=3\nretention.ms=3600000\n`,
    );
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const pipeline = new Pipeline(app, "P");
    pipeline.build(
      new KafkaSource(app, pipeline, "KafkaConnection", { config: { topic: fromSource, group_id: `${fromSource}-g`, num_partitions: 2 } }),
      new KafkaSink(app, pipeline, "KafkaConnection", { config: { topic: fromSink } }),
    );
    app.pumpService.addPipeline(pipeline);
    const initializer = new KafkaTopicInitializer(app, "KafkaConnection");
    const pump = runApp(app);
    await pump.started;
    const source = pipeline.sources[0] as KafkaSource;
    await until(() => source.assignment.length > 0, "the source to be assigned its partitions");
    const assigned = source.assignment.length;
    expect(await pump.stop()).toBe(0);
    const described = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [declared, fromSource, fromSink, existing] }));
    const partitions = Object.fromEntries(described.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ [declared]: 4, [fromSource]: 2, [fromSink]: 3, [existing]: 1 });
    expect(assigned).toBe(2);
    const configs = await withAdmin(kafka, (admin) => admin.describeConfigs({ resources: [{ type: 2, name: fromSink, configNames: ["retention.ms"] }], includeSynonyms: false }));
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe("3600000");
    expect(await initializer.initializeTopics()).toEqual([]); // nothing missing any more
  });
});

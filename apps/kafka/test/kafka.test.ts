import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordedPrices, startStandIn } from "@pump/app-coindesk/stand-in";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";
import type { CurrentPrice } from "@pump/app-coindesk/pipeline";
import { ConfigFile, logging, Pipeline, PumpApplication, Sink, type Context } from "@pump/core";
import { KafkaConnection, KafkaSink, KafkaSource, type KafkaContext } from "@pump/kafka";
import { describeWithServer } from "@pump/test-servers/vitest";
import { describe, expect, it } from "vitest";
import { SamplePipeline } from "../src/pipeline.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();
const pump = pumpsIn(here);

describe("SamplePipeline", () => {
  it("is the coindesk pump with a KafkaSink on KafkaConnection, writing to the configured topic", () => {
    const conf = ConfigFile.parse("[connection:KafkaConnection]\nbootstrap_servers=127.0.0.1:9092\n[pipeline:SamplePipeline:KafkaSink]\ntopic=coindesk-data", "test.conf");
    const app = new PumpApplication({ args: [], config: conf });
    app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
    const pipeline = new SamplePipeline(app, "SamplePipeline");
    expect([...pipeline.iterProcessors()].flat().map((processor) => processor.id)).toEqual(["StdJsonToDictParser", "EnrichProcessor", "KafkaSink"]);
    expect((pipeline.locateProcessor("KafkaSink") as KafkaSink).config.get("topic")).toBe("coindesk-data");
    expect(ConfigFile.load(join(here, "etc", "kafka.conf")).get("pipeline:SamplePipeline:KafkaSink", "topic")).toBe("coindesk-data");
  });
});

interface TopicRecord {
  /** When the broker took it, epoch milliseconds. */
  timestamp: number;
  value: CurrentPrice;
}

/**
 * Reads `topic` from its start with a KafkaSource in this process until `enough(records)`; resolves
 * the records, their values parsed.
 */
async function readTopic(brokers: string, topic: string, enough: (records: TopicRecord[]) => boolean): Promise<TopicRecord[]> {
  logging.setWriter(() => {}); // the reader's own logs are not what is tested
  defer(() => logging.setWriter(undefined));
  const conf = `[connection:KafkaConnection]\nbootstrap_servers=${brokers}\n[pipeline:Reader:KafkaSource]\ntopic=${topic}\ngroup_id=reader-${randomUUID()}\nauto_offset_reset=earliest`;
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(conf, "reader.conf") });
  app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
  const pipeline = new Pipeline(app, "Reader");
  const records: TopicRecord[] = [];
  pipeline.build(
    new KafkaSource(app, pipeline, "KafkaConnection"),
    new (class extends Sink<Buffer | null> {
      process(context: Context, value: Buffer | null): void {
        if (value !== null) records.push({ timestamp: (context as KafkaContext).kafka_timestamp ?? 0, value: JSON.parse(value.toString("utf8")) as CurrentPrice });
      }
    })(app, pipeline),
  );
  app.pumpService.addPipeline(pipeline);
  const running = app.run();
  while (!enough(records)) await new Promise((resolve) => setTimeout(resolve, 100));
  app.stop();
  await running;
  return records;
}

/** A recorded answer as the pump sends it: with the yen. */
function withYen(price: CurrentPrice): CurrentPrice {
  const jpy = price.bpi.USD!.rate_float * 113.7;
  return { ...price, bpi: { ...price.bpi, JPY: { code: "JPY", symbol: "¥", rate: jpy.toLocaleString("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 }), description: "JPY", rate_float: jpy } } };
}

describeWithServer("the pump against Kafka", "KAFKA_BROKERS", (brokers) => {
  it("writes each price, with the yen added, as a JSON record of the topic every 5 seconds; stops on Ctrl-C with exit code 0", async () => {
    const topic = `coindesk-data-${randomUUID().slice(0, 8)}`;
    const standIn = await startStandIn();
    defer(() => standIn.close());
    const dir = mkdtempSync(join(tmpdir(), "coindesk-kafka-"));
    writeFileSync(
      join(dir, "kafka.conf"),
      `[connection:KafkaConnection]\nbootstrap_servers=${brokers}\n\n[pipeline:SamplePipeline:KafkaSink]\ntopic=${topic}\n\n[pipeline:SamplePipeline:HTTPClientSource]\nurl=${standIn.url}\n`,
    );
    const child = pump(["src/main.ts", "-c", join(dir, "kafka.conf")]);
    await child.waitFor("two prices were asked for", () => standIn.requests >= 2);
    expect(await child.stop("SIGINT")).toBe(0); // the sink sends what it holds before the pump stops
    expect(child.stderr).not.toMatch(/ERROR/);

    const records = await readTopic(brokers, topic, (read) => read.length >= standIn.requests);
    expect(records.map((record) => record.value)).toEqual(recordedPrices().slice(0, standIn.requests).map(withYen));
  });

  it("`pnpm start:offline` runs it against the Coindesk stand-in and the topic coindesk-data", async () => {
    const started = Date.now();
    const child = pump(["src/offline.ts"], { KAFKA_BROKERS: brokers });
    await child.waitFor("the pump started", () => /1 pipeline ready/.test(child.stderr));
    expect(child.stderr).toContain("Coindesk API stand-in (recorded answers, not the real API): http://127.0.0.1:8707/v1/bpi/currentprice.json");
    // The topic may hold records of earlier runs: this run's first one is the first recorded price, with the yen.
    const records = await readTopic(brokers, "coindesk-data", (read) => read.some((record) => record.timestamp >= started));
    expect(records.find((record) => record.timestamp >= started)!.value).toEqual(withYen(recordedPrices()[0]!));
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(child.stderr).not.toMatch(/ERROR/);
  });
});

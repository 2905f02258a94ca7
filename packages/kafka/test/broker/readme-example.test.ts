import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { createTopic, produce, PumpProcess, testKafka, TopicReader, unique, until } from "../helpers.js";

const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(PACKAGE, "examples", "upper-pump.ts");

it("the README shows examples/upper-pump.ts and its .conf as they are", () => {
  const readme = readFileSync(join(PACKAGE, "README.md"), "utf8");
  expect(readme).toContain(readFileSync(EXAMPLE, "utf8").trim());
  expect(readme).toContain(readFileSync(join(PACKAGE, "examples", "upper-pump.conf"), "utf8").trim());
});

describeWithServer("The README's example pump against the broker", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);

  it("runs with node and copies one topic into another, upper-cased", async () => {
    const words = unique("words");
    const upper = unique("upper-words");
    await createTopic(kafka, words, 1);
    await createTopic(kafka, upper, 1);
    await produce(kafka, words, [{ value: "hello" }, { value: null }, { value: "kafka" }]);
    const conf = readFileSync(join(PACKAGE, "examples", "upper-pump.conf"), "utf8")
      .replace("127.0.0.1:9092", brokers)
      .replace("topic=words", `topic=${words}`)
      .replace("topic=upper-words", `topic=${upper}`)
      .replace("group_id=upper-pump", `group_id=${words}-g`);
    const file = join(mkdtempSync(join(tmpdir(), "pump-kafka-readme-")), "upper-pump.conf");
    writeFileSync(file, conf);
    const reader = await new TopicReader(kafka, upper).start();
    const pump = new PumpProcess(EXAMPLE, {}, ["-c", file]);
    try {
      await until(() => reader.records.length >= 2, "the upper-cased words");
      pump.kill("SIGTERM");
      expect(await pump.exited).toBe(0);
      expect(reader.records.map((r) => r.value)).toEqual(["HELLO", "KAFKA"]);
    } finally {
      pump.kill("SIGKILL");
      await reader.stop();
    }
  });
});

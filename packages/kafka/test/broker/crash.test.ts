import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { committedToEnd, createTopic, produce, PumpProcess, testKafka, TopicReader, unique, until } from "../helpers.js";

describeWithServer("A consuming pump killed with SIGKILL mid-stream and started again", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);

  it("loses nothing: every record produced reaches the output topic (duplicates allowed, counted)", async () => {
    const input = unique("crash-in");
    const output = unique("crash-out");
    const group = `${input}-g`;
    await createTopic(kafka, input, 3);
    await createTopic(kafka, output, 3);
    const N = 20_000;
    await produce(kafka, input, Array.from({ length: N }, (_, n) => ({ key: `k${n % 97}`, value: `m${n}` })));
    const env = { KAFKA_BROKERS: brokers, IN_TOPIC: input, OUT_TOPIC: output, GROUP: group, PACE_EVERY: "20", PACE_MS: "10", SESSION_TIMEOUT_MS: "6000" };
    const reader = await new TopicReader(kafka, output).start();
    const pumps: PumpProcess[] = [];
    try {
      const first = new PumpProcess("copy-pump.ts", { ...env, TAG: "first" });
      pumps.push(first);
      await until(() => reader.counts().size >= N / 4, "a quarter of the records copied");
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 500)); // anywhere in a batch
      first.kill("SIGKILL");
      expect(await first.exited).toBeNull(); // killed, not exited
      await new Promise((resolve) => setTimeout(resolve, 1000)); // let the reader catch up with what the first pump wrote
      const copiedBeforeKill = reader.counts().size;
      expect(copiedBeforeKill).toBeLessThan(N); // it was killed mid-stream

      const second = new PumpProcess("copy-pump.ts", { ...env, TAG: "second" });
      pumps.push(second);
      await until(() => reader.counts().size >= N, "every record copied after the restart", 3000);
      await until(() => committedToEnd(kafka, group, input), "the group's offsets at the end of the input");
      second.kill("SIGTERM");
      expect(await second.exited).toBe(0);

      const counts = reader.counts();
      const lost = Array.from({ length: N }, (_, n) => `m${n}`).filter((v) => !counts.has(v));
      const duplicates = reader.records.length - counts.size;
      console.log(`kill -9 test: ${N} produced, ${copiedBeforeKill} copied before the kill, ${lost.length} lost, ${duplicates} duplicates`);
      expect(lost).toEqual([]);
      expect(counts.size).toBe(N);
      expect(duplicates).toBeGreaterThanOrEqual(0);
      expect(reader.records.filter((r) => r.headers.pump === "second").length).toBeGreaterThan(0);
    } finally {
      for (const p of pumps) p.kill("SIGKILL");
      await reader.stop();
    }
  });
});

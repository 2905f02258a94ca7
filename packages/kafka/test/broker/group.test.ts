import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { committedToEnd, createTopic, produce, PumpProcess, testKafka, TopicReader, unique, until } from "../helpers.js";

/** The partitions a copy pump said last that it owns. */
function assigned(pump: PumpProcess): string[] {
  return (pump.last("ASSIGNED") ?? "").split(" ").filter(Boolean);
}

describeWithServer("Three pump processes in one consumer group", "KAFKA_BROKERS", (brokers) => {
  const kafka = testKafka(brokers);

  it("share the partitions of a topic between them, and every record is processed", async () => {
    const input = unique("group-in");
    const output = unique("group-out");
    const group = `${input}-g`;
    const PARTITIONS = 6;
    await createTopic(kafka, input, PARTITIONS);
    await createTopic(kafka, output, 2);
    const env = { KAFKA_BROKERS: brokers, IN_TOPIC: input, OUT_TOPIC: output, GROUP: group };
    const pumps = ["a", "b", "c"].map((tag) => new PumpProcess("copy-pump.ts", { ...env, TAG: tag }));
    const reader = await new TopicReader(kafka, output).start();
    try {
      // The group settles: each pump owns some partitions, no partition is owned twice, all are owned.
      const owned = (): string[][] => pumps.map(assigned);
      await until(() => {
        const sets = owned();
        const all = sets.flat();
        return sets.every((s) => s.length > 0) && all.length === PARTITIONS && new Set(all).size === PARTITIONS;
      }, "the three pumps to share the six partitions");
      const assignment = owned();

      const N = 6000;
      await produce(kafka, input, Array.from({ length: N }, (_, n) => ({ value: `m${n}`, partition: n % PARTITIONS })));
      await until(() => reader.counts().size >= N, "every record copied");
      await until(() => committedToEnd(kafka, group, input), "the group's offsets at the end of the input");
      for (const p of pumps) p.kill("SIGTERM");
      expect(await Promise.all(pumps.map((p) => p.exited))).toEqual([0, 0, 0]);

      const counts = reader.counts();
      expect(counts.size).toBe(N);
      for (let n = 0; n < N; n++) expect(counts.has(`m${n}`)).toBe(true);
      // Each pump copied exactly the records of the partitions it owned.
      const byPump = new Map<string, Set<string>>();
      for (const r of reader.records) {
        const pump = r.headers.pump as string;
        const from = (r.headers.from as string).split(":")[0]!;
        byPump.set(pump, (byPump.get(pump) ?? new Set()).add(`${input}:${from}`));
      }
      expect(["a", "b", "c"].map((tag) => [...(byPump.get(tag) ?? [])].toSorted())).toEqual(assignment.map((s) => s.toSorted()));
      console.log(`group test: ${N} records, ${reader.records.length - counts.size} duplicates, partitions ${JSON.stringify(assignment)}`);
    } finally {
      for (const p of pumps) p.kill("SIGKILL");
      await reader.stop();
    }
  });

  it("lose nothing when pumps join and leave mid-stream (rebalances move partitions between them)", async () => {
    const input = unique("rebalance-in");
    const output = unique("rebalance-out");
    const group = `${input}-g`;
    await createTopic(kafka, input, 6);
    await createTopic(kafka, output, 3);
    const N = 12_000;
    const records = Array.from({ length: N }, (_, n) => ({ key: `k${n % 101}`, value: `m${n}` }));
    await produce(kafka, input, records.slice(0, N / 2));
    const env = { KAFKA_BROKERS: brokers, IN_TOPIC: input, OUT_TOPIC: output, GROUP: group, PACE_EVERY: "20", PACE_MS: "10" };
    const reader = await new TopicReader(kafka, output).start();
    const pumps: PumpProcess[] = [];
    try {
      const a = new PumpProcess("copy-pump.ts", { ...env, TAG: "a" });
      pumps.push(a);
      await until(() => reader.counts().size >= N / 4, "a quarter copied by the first pump");
      const b = new PumpProcess("copy-pump.ts", { ...env, TAG: "b" });
      pumps.push(b);
      // The rebalance moves partitions to b while a is mid-stream; the second half comes only then, so b
      // has records of its own to copy however fast a was meanwhile.
      await until(() => assigned(b).length > 0 && assigned(a).length + assigned(b).length === 6, "the second pump to take partitions over");
      await produce(kafka, input, records.slice(N / 2));
      await until(() => reader.records.some((r) => r.headers.pump === "b"), "the second pump to copy records of its partitions");
      a.kill("SIGTERM"); // leaves the group in order: what it handed over settles and is committed first
      expect(await a.exited).toBe(0);
      await until(() => reader.counts().size >= N, "every record copied");
      await until(() => committedToEnd(kafka, group, input), "the group's offsets at the end of the input");
      b.kill("SIGTERM");
      expect(await b.exited).toBe(0);
      const counts = reader.counts();
      const lost = Array.from({ length: N }, (_, n) => `m${n}`).filter((v) => !counts.has(v));
      console.log(`rebalance test: ${N} records, ${lost.length} lost, ${reader.records.length - counts.size} duplicates`);
      expect(lost).toEqual([]);
    } finally {
      for (const p of pumps) p.kill("SIGKILL");
      await reader.stop();
    }
  });
});

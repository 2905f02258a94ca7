import { describe, expect, it } from "vitest";
import { ProcessorTestCase } from "@pump/core/testing";
import { KafkaKeyFilter } from "../../src/index.js";

describe("KafkaKeyFilter", () => {
  it("passes events whose kafka_key is one of the keys (compared as bytes) and drops the rest", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor((app, pipeline) => new KafkaKeyFilter(app, pipeline, [Buffer.from("a"), "b", new Uint8Array([0xff])]));
    const output = await test.execute([
      [{ kafka_key: Buffer.from("a") }, 1],
      [{ kafka_key: "a" }, 2],
      [{ kafka_key: Buffer.from("b") }, 3],
      [{ kafka_key: Buffer.from("c") }, 4],
      [{ kafka_key: Buffer.from([0xff]) }, 5],
      [{ kafka_key: null }, 6],
      [{}, 7],
      [{ kafka_key: 42 }, 8],
    ]);
    expect(output.map(([, event]) => event)).toEqual([1, 2, 3, 5]);
  });

  it("takes a single key", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor((app, pipeline) => new KafkaKeyFilter(app, pipeline, Buffer.from("only")));
    const output = await test.execute([
      [{ kafka_key: Buffer.from("only") }, "yes"],
      [{ kafka_key: Buffer.from("onl") }, "no"],
    ]);
    expect(output.map(([, event]) => event)).toEqual(["yes"]);
  });
});

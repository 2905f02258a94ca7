import { describe, expect, it } from "vitest";
import { ConfigError, type Context, type Pipeline, type PumpApplication } from "../../src/index.js";
import { Analyzer, Latch, LatchAnalyzer, compileQuery, type LatchOptions } from "../../src/analyzer/index.js";
import { ProcessorTestCase } from "../../src/testing/index.js";

class CustomSmallLatchAnalyzer extends LatchAnalyzer {
  static override ConfigDefaults = { latch_max_size: 2 };
}

class CustomInfiniteLatchAnalyzer extends LatchAnalyzer {
  static override ConfigDefaults = { latch_max_size: 0 };
}

const EVENTS: [null, Record<string, string>][] = [
  [null, { foo: "bar" }],
  [null, { fizz: "buzz" }],
];

async function latched(make: (app: PumpApplication, pipeline: Pipeline) => LatchAnalyzer, input: readonly (readonly [null, unknown])[] = EVENTS) {
  const t = new ProcessorTestCase();
  const latch = t.setUpProcessor(make) as LatchAnalyzer;
  const output = (await t.execute(input)).map(([, event]) => event);
  return { latch, output };
}

describe("LatchAnalyzer (BSPump's test_latch vectors)", () => {
  it("keeps the events and passes them on", async () => {
    const { latch, output } = await latched((app, p) => new CustomSmallLatchAnalyzer(app, p));
    expect(output).toEqual([{ foo: "bar" }, { fizz: "buzz" }]);
    expect(latch.size).toBe(2);
  });

  it("query false keeps nothing", async () => {
    const { latch, output } = await latched((app, p) => new CustomSmallLatchAnalyzer(app, p, { query: false }));
    expect(output).toEqual([{ foo: "bar" }, { fizz: "buzz" }]);
    expect(latch.size).toBe(0);
  });

  it("an unbounded latch with query false keeps nothing, and has no limit", async () => {
    const { latch, output } = await latched((app, p) => new CustomInfiniteLatchAnalyzer(app, p, { query: false }));
    expect(output).toEqual([{ foo: "bar" }, { fizz: "buzz" }]);
    expect(latch.size).toBe(0);
    expect(latch.maxSize).toBe(0);
  });

  it("a mongo query keeps the events it matches", async () => {
    const { latch, output } = await latched((app, p) => new CustomSmallLatchAnalyzer(app, p, { query: { foo: "bar" } }));
    expect(output).toEqual([{ foo: "bar" }, { fizz: "buzz" }]);
    expect(latch.latch).toEqual([{ foo: "bar" }]);
  });

  it("inclusive keeps the events the query does not match", async () => {
    const { latch, output } = await latched((app, p) => new CustomSmallLatchAnalyzer(app, p, { query: { foo: "bar" }, inclusive: true }));
    expect(output).toEqual([{ foo: "bar" }, { fizz: "buzz" }]);
    expect(latch.latch).toEqual([{ fizz: "buzz" }]);
  });

  it("an invalid query fails at construction", () => {
    const t = new ProcessorTestCase();
    expect(() => t.setUpProcessor((app, p) => new LatchAnalyzer(app, p, { query: { $foo: 2 } }))).toThrow(ConfigError);
    expect(() => t.setUpProcessor((app, p) => new LatchAnalyzer(app, p, { query: { $foo: 2 } }))).toThrow(/unknown top-level operator '\$foo'/);
  });
});

describe("LatchAnalyzer", () => {
  it("is an Analyzer, exported as Latch too; keeps 50 by default, dropping the oldest", async () => {
    const input = Array.from({ length: 120 }, (_, i) => [null, { n: i }] as const);
    const { latch, output } = await latched((app, p) => new Latch(app, p), input);
    expect(latch).toBeInstanceOf(Analyzer);
    expect(output).toHaveLength(120);
    expect(latch.maxSize).toBe(50);
    expect(latch.latch).toEqual(Array.from({ length: 50 }, (_, i) => ({ n: 70 + i })));
  });

  it("the last N survive any number of events (the dead front is dropped as it grows)", async () => {
    const t = new ProcessorTestCase();
    const latch = t.setUpProcessor((app, p) => new LatchAnalyzer(app, p, { config: { latch_max_size: 3 } })) as LatchAnalyzer;
    for (let i = 0; i < 20; i++) {
      await t.execute([[null, i]]);
      expect(latch.latch).toEqual(Array.from({ length: Math.min(i + 1, 3) }, (_, k) => Math.max(0, i - 2) + k));
    }
    latch.clear();
    expect(latch.latch).toEqual([]);
  });

  it("an unbounded latch keeps everything", async () => {
    const input = Array.from({ length: 500 }, (_, i) => [null, i] as const);
    const { latch } = await latched((app, p) => new LatchAnalyzer(app, p, { config: { latch_max_size: 0 } }), input);
    expect(latch.size).toBe(500);
  });

  it("latch_size is another name for latch_max_size; a negative size is a ConfigError", () => {
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:LatchAnalyzer]\nlatch_size = 7\n" });
    expect((t.setUpProcessor(LatchAnalyzer) as LatchAnalyzer).maxSize).toBe(7);
    const bad = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:LatchAnalyzer]\nlatch_max_size = -1\n" });
    expect(() => bad.setUpProcessor(LatchAnalyzer)).toThrow(/key 'latch_max_size': the latch size must be 0/);
  });

  it("a function query sees the event and its context; setQuery() changes the query while running", async () => {
    const t = new ProcessorTestCase();
    const options: LatchOptions<number> = { query: (event: number, context: Context) => event > 1 && context.keep === true };
    const latch = t.setUpProcessor((app, p) => new LatchAnalyzer<number>(app, p, options)) as LatchAnalyzer<number>;
    await t.execute([[{ keep: true }, 1], [{ keep: true }, 2], [{}, 3]]);
    expect(latch.latch).toEqual([2]);
    expect(() => latch.setQuery({ n: { $bogus: 1 } })).toThrow(/unknown operator '\$bogus'/);
    await t.execute([[{ keep: true }, 5]]); // the old query stays
    expect(latch.latch).toEqual([2, 5]);
    latch.setQuery(true);
    await t.execute([[null, 4]]);
    expect(latch.latch).toEqual([2, 5, 4]);
    expect(latch.restGet()).toMatchObject({ LatchSize: 3, LatchMaxSize: 50, Latch: [2, 5, 4] });
  });
});

describe("compileQuery (the latch's MongoDB-style queries)", () => {
  const cases: [string, Record<string, unknown>, unknown, boolean][] = [
    ["equality", { a: 1 }, { a: 1 }, true],
    ["equality, other value", { a: 1 }, { a: 2 }, false],
    ["equality with an object", { a: { b: 1 } }, { a: { b: 1 } }, true],
    ["an array field contains the value", { tags: "x" }, { tags: ["y", "x"] }, true],
    ["dotted path", { "a.b.c": 3 }, { a: { b: { c: 3 } } }, true],
    ["dotted path into an array", { "a.1": "y" }, { a: ["x", "y"] }, true],
    ["null matches a missing field", { a: null }, {}, true],
    ["$ne matches a missing field", { a: { $ne: 1 } }, {}, true],
    ["$gt", { n: { $gt: 5 } }, { n: 6 }, true],
    ["$gt, equal", { n: { $gt: 5 } }, { n: 5 }, false],
    ["$gte/$lt range", { n: { $gte: 5, $lt: 10 } }, { n: 9 }, true],
    ["$lte on strings", { s: { $lte: "b" } }, { s: "a" }, true],
    ["comparing across types is false", { n: { $gt: 5 } }, { n: "6" }, false],
    ["$in", { s: { $in: ["a", "b"] } }, { s: "b" }, true],
    ["$nin", { s: { $nin: ["a", "b"] } }, { s: "c" }, true],
    ["$exists true", { a: { $exists: true } }, { a: 0 }, true],
    ["$exists false", { a: { $exists: false } }, { a: 0 }, false],
    ["$regex", { msg: { $regex: "^err", $options: "i" } }, { msg: "ERROR: x" }, true],
    ["a RegExp value", { msg: /fail/ }, { msg: "it failed" }, true],
    ["$not", { n: { $not: { $gt: 5 } } }, { n: 3 }, true],
    ["$size", { a: { $size: 2 } }, { a: [1, 2] }, true],
    ["$all", { a: { $all: [1, 3] } }, { a: [1, 2, 3] }, true],
    ["$and", { $and: [{ a: 1 }, { b: 2 }] }, { a: 1, b: 2 }, true],
    ["$or", { $or: [{ a: 1 }, { b: 2 }] }, { b: 2 }, true],
    ["$nor", { $nor: [{ a: 1 }, { b: 2 }] }, { b: 2 }, false],
    ["all fields must match", { a: 1, b: 2 }, { a: 1, b: 3 }, false],
    ["a non-object event has no fields", { a: 1 }, "a", false],
    ["the empty query matches anything", {}, 42, true],
  ];
  it.each(cases)("%s", (_name, query, document, expected) => {
    expect(compileQuery(query)(document)).toBe(expected);
  });

  it.each([
    [{ $where: "x" }, /unknown top-level operator '\$where'/],
    [{ a: { $in: 1 } }, /\$in needs an array/],
    [{ a: { $gt: 1, b: 2 } }, /cannot mix operators and fields/],
    [{ $or: [] }, /\$or needs a non-empty array/],
    [{ a: { $regex: "(" } }, /\$regex '\(':/],
    [{ a: { $options: "i" } }, /\$options without \$regex/],
  ])("%o is a ConfigError", (query, message) => {
    expect(() => compileQuery(query)).toThrow(ConfigError);
    expect(() => compileQuery(query)).toThrow(message);
  });
});

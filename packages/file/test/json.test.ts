import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pipeline, type Context } from "@pump/core";
import { FileJSONSource, JsonStreamParser, JsonSyntaxError, type ParsedValue } from "../src/index.js";
import { records } from "./setup.js";
import { UnitTestSink, SoftPipeline, createApp, cycleCounter, listFiles, manualTrigger, runCycles, tempDir } from "./helpers.js";

/** Parses `text` fed in pieces of `size` characters. */
function parseInPieces(text: string, size: number, unwrapArray = false): ParsedValue[] {
  const parser = new JsonStreamParser({ unwrapArray });
  const out: ParsedValue[] = [];
  for (let i = 0; i < text.length; i += size) parser.write(text.slice(i, i + size), out);
  parser.end(out);
  return out;
}

const DOCUMENT = {
  name: "pump \"quoted\" \\ back\nslash é ✓ 😀",
  n: [0, -1, 1.5, -2.25e-3, 1e21, 123456789],
  flags: [true, false, null],
  nested: { empty: {}, list: [], deep: [[[{ a: [1, { b: "c" }] }]]] },
  "unicode \u00e9 key": "\u0001 escaped control",
};

describe("JsonStreamParser", () => {
  it("gives what JSON.parse gives, whatever the pieces the text arrives in", () => {
    const text = JSON.stringify(DOCUMENT, null, 2);
    for (const size of [1, 2, 3, 7, 64, text.length]) {
      const out = parseInPieces(text, size);
      expect(out).toEqual([{ value: DOCUMENT, line: 1 }]);
    }
  });

  it("gives each of several top-level values (NDJSON, concatenated) with the line it starts on", () => {
    const text = '{"a":1}\n{"a":2}\n\n  [3]\n"four" 5 true null\n{"x":\n  6}';
    expect(parseInPieces(text, 3)).toEqual([
      { value: { a: 1 }, line: 1 },
      { value: { a: 2 }, line: 2 },
      { value: [3], line: 4 },
      { value: "four", line: 5 },
      { value: 5, line: 5 },
      { value: true, line: 5 },
      { value: null, line: 5 },
      { value: { x: 6 }, line: 6 },
    ]);
  });

  it("with unwrapArray gives the elements of a top-level array one by one", () => {
    const text = '[\n {"id": 1},\n {"id": 2, "tags": ["a", "b"]},\n 3,\n [4]\n]';
    expect(parseInPieces(text, 5, true)).toEqual([
      { value: { id: 1 }, line: 2 },
      { value: { id: 2, tags: ["a", "b"] }, line: 3 },
      { value: 3, line: 4 },
      { value: [4], line: 5 },
    ]);
    expect(parseInPieces('{"not":"an array"}', 4, true)).toEqual([{ value: { not: "an array" }, line: 1 }]);
    expect(parseInPieces("[]", 1, true)).toEqual([]);
  });

  it("keeps a \"__proto__\" key as data, as JSON.parse does", () => {
    const [parsed] = parseInPieces('{"__proto__": {"polluted": true}}', 4);
    const value = parsed!.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it.each([
    ['{"a"\n 1}', 2, "expected ':'"],
    ["[1,]", 1, "unexpected \"]\""],
    ['{"a":1,}', 1, "expected a key string"],
    ["[1 2]", 1, "expected ',' or a closing bracket"],
    ["[01]", 1, "invalid number"],
    ["nul", 1, 'unexpected "nul"'],
    ['{"a": "unterminated', 1, "unexpected end of the file"],
    ["[tru]", 1, "unexpected \"tru\""],
    ['["a\nb"]', 1, "control character in a string"],
    ['["\\x"]', 1, "invalid escape"],
    ["{\n\n]", 3, "expected a key string"],
    ['[1, {"a": [2}]', 1, "unexpected \"}\""],
    ["[1,\n2", 2, "unexpected end of the file"],
  ])("rejects %j with the line (%i) and the problem", (text, line, problem) => {
    let error: unknown;
    try {
      parseInPieces(text, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).line).toBe(line);
    expect((error as Error).message).toContain(problem);
  });
});

function setup(config: Record<string, string | number | boolean>, soft = false) {
  const app = createApp();
  const pipeline = soft ? new SoftPipeline(app, "P") : new Pipeline(app, "P");
  const source = new FileJSONSource(app, pipeline, { config });
  const sink = new UnitTestSink<unknown>(app, pipeline);
  pipeline.build(source, sink);
  const trigger = manualTrigger(app);
  source.on(trigger);
  return { pipeline, source, sink, trigger, counter: cycleCounter(pipeline) };
}

describe("FileJSONSource", () => {
  it("gives a JSON file as one event, as BSPump does", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "doc.json"), JSON.stringify(DOCUMENT, null, 1));
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "*.json") });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events).toEqual([DOCUMENT]);
    expect(sink.contexts[0]).toMatchObject({ filename: join(dir, "doc.json"), line: 1 });
    expect(await listFiles(dir)).toEqual(["doc.json-processed"]);
    await pipeline.stop();
  });

  it("streams a large top-level array with unwrap_array: element by element, in batches, while the event loop keeps turning", async () => {
    const dir = await tempDir();
    const count = 20_000;
    const items = Array.from({ length: count }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b"], score: i / 7 }));
    await writeFile(join(dir, "big.json"), `[\n${items.map((item) => JSON.stringify(item)).join(",\n")}\n]\n`);
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    let batches = 0;
    class Counting extends FileJSONSource {
      override processBatch(events: readonly unknown[], contexts?: readonly Context[]): Promise<void> {
        batches++;
        return super.processBatch(events, contexts);
      }
    }
    const source = new Counting(app, pipeline, { config: { path: join(dir, "big.json"), unwrap_array: true, read_buffer_size: 8192 } });
    const sink = new UnitTestSink<unknown>(app, pipeline);
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    await runCycles(pipeline, trigger, cycleCounter(pipeline));
    spinning = false;
    await source.idle();
    expect(sink.events).toEqual(items);
    expect(sink.contexts.map((c) => c.line)).toEqual(items.map((_, i) => i + 2));
    expect(batches).toBeGreaterThan(10);
    expect(turns).toBeGreaterThan(10); // the event loop went round while the file was parsed
    await pipeline.stop();
  });

  it("parses one large document without blocking the event loop: it is built chunk by chunk", async () => {
    const dir = await tempDir();
    const doc = { rows: Array.from({ length: 30_000 }, (_, i) => ({ i, s: `row ${i}` })) };
    await writeFile(join(dir, "one.json"), JSON.stringify(doc));
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "one.json"), read_buffer_size: 4096 });
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    await runCycles(pipeline, trigger, counter);
    spinning = false;
    await source.idle();
    expect(sink.events).toEqual([doc]);
    expect(turns).toBeGreaterThan(20);
    await pipeline.stop();
  });

  it("reads NDJSON as one event per line", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.ndjson"), '{"a":1}\n{"a":2}\n{"a":3}\n');
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "*.ndjson") });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(sink.contexts.map((c) => c.line)).toEqual([1, 2, 3]);
    await pipeline.stop();
  });

  it("reports invalid JSON with file and line; the events before it stand and the file becomes -failed", async () => {
    const dir = await tempDir();
    const path = join(dir, "bad.ndjson");
    await writeFile(path, '{"a":1}\n{"a":2}\n{"a":,}\n{"a":4}\n');
    const { pipeline, source, sink, trigger, counter } = setup({ path }, true);
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events).toEqual([{ a: 1 }, { a: 2 }]);
    expect(pipeline.metricsSnapshot().warning).toBe(1);
    const warning = records.find((r) => r.message === "Event dropped by a soft error");
    expect((warning!.fields.error as Error).message).toMatch(new RegExp(`^${path.replaceAll("/", "\\/")}:3: unexpected ","`));
    expect(await listFiles(dir)).toEqual(["bad.ndjson-failed"]);
    await pipeline.stop();
  });

  it("reports bytes that are not UTF-8 with the line they are on", async () => {
    const dir = await tempDir();
    const path = join(dir, "enc.json");
    await writeFile(path, Buffer.concat([Buffer.from('{"a":\n"'), Buffer.from([0xff]), Buffer.from('"}\n')]));
    const { pipeline, source, sink, trigger, counter } = setup({ path }, true);
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events).toEqual([]);
    const warning = records.find((r) => r.message === "Event dropped by a soft error");
    expect((warning!.fields.error as Error).message).toBe(`${path}:2: bytes that are not valid utf-8`);
    expect(await listFiles(dir)).toEqual(["enc.json-failed"]);
    await pipeline.stop();
  });
});

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DELIVERY, Delivery, Pipeline, Source, type Context } from "@pump/core";
import { FileCSVSink, FileCSVSource, QUOTE_ALL, QUOTE_MINIMAL, QUOTE_NONE, QUOTE_NONNUMERIC, formatCsvRow, type CsvDialect, type CsvRow } from "../src/index.js";
import { records } from "./setup.js";
import { UnitTestSink, SoftPipeline, createApp, cycleCounter, listFiles, manualTrigger, runCycles, tempDir, until } from "./helpers.js";

function setup(config: Record<string, string | number | boolean>, options: { soft?: boolean; fieldnames?: string[] } = {}) {
  const app = createApp();
  const pipeline = options.soft === true ? new SoftPipeline(app, "P") : new Pipeline(app, "P");
  const source = new FileCSVSource(app, pipeline, options.fieldnames, { config });
  const sink = new UnitTestSink<CsvRow>(app, pipeline);
  pipeline.build(source, sink);
  const trigger = manualTrigger(app);
  source.on(trigger);
  return { app, pipeline, source, sink, trigger, counter: cycleCounter(pipeline) };
}

async function readCsv(path: string, config: Record<string, string | number | boolean> = {}, options: { soft?: boolean; fieldnames?: string[] } = {}) {
  const s = setup({ path, ...config }, options);
  await runCycles(s.pipeline, s.trigger, s.counter);
  await s.source.idle();
  await s.pipeline.stop();
  return s;
}

function softErrors(): string[] {
  return records.filter((r) => r.message === "Event dropped by a soft error").map((r) => (r.fields.error as Error).message);
}

const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

describe("FileCSVSource", () => {
  it("reads rows as objects keyed by the header, with the line each row starts on (LF and CRLF files)", async () => {
    const dir = await tempDir();
    for (const eol of ["\n", "\r\n"]) {
      const path = join(dir, eol === "\n" ? "lf.csv" : "crlf.csv");
      const text = ['id,name,note', '1,Ann,"a, b"', "", '2,"Bob ""B""","two', 'lines"', '3,Cy,"x', "", 'y"', "4,Di,plain", ""].join(eol);
      await writeFile(path, text);
      const { sink, pipeline } = await readCsv(path);
      expect(sink.events).toEqual([
        { id: "1", name: "Ann", note: "a, b" },
        { id: "2", name: 'Bob "B"', note: `two${eol}lines` },
        { id: "3", name: "Cy", note: `x${eol}${eol}y` },
        { id: "4", name: "Di", note: "plain" },
      ]);
      expect(sink.contexts.map((c) => c.line)).toEqual([2, 4, 6, 9]);
      expect(sink.contexts.every((c) => c.filename === path)).toBe(true);
      expect(pipeline.metricsSnapshot().warning).toBe(0);
    }
    expect(await listFiles(dir)).toEqual(["crlf.csv-processed", "lf.csv-processed"]);
  });

  it("streams a CSV file larger than the read buffer, quoted line breaks crossing buffer boundaries", async () => {
    const dir = await tempDir();
    const path = join(dir, "big.csv");
    const rows = Array.from({ length: 3000 }, (_, i) => ({ n: String(i), text: i % 3 === 0 ? `multi\r\nline ${i}, "quoted"` : `plain ${i}` }));
    await writeFile(path, `n,text\r\n${rows.map((r) => `${r.n},${quote(r.text)}`).join("\r\n")}\r\n`);
    let batches = 0;
    const s = setup({ path, read_buffer_size: 1000 });
    const original = s.source.processBatch.bind(s.source);
    s.source.processBatch = (events, contexts) => {
      batches++;
      return original(events, contexts);
    };
    await runCycles(s.pipeline, s.trigger, s.counter);
    await s.source.idle();
    expect(s.sink.events).toEqual(rows);
    let line = 2;
    const starts = rows.map((r) => {
      const start = line;
      line += r.text.includes("\n") ? 2 : 1;
      return start;
    });
    expect(s.sink.contexts.map((c) => c.line)).toEqual(starts);
    expect(batches).toBeGreaterThan(20);
    await s.pipeline.stop();
  });

  it("takes the field names from the constructor: then the first line is data", async () => {
    const dir = await tempDir();
    const path = join(dir, "a.csv");
    await writeFile(path, "1,2\n3,4\n");
    const { sink } = await readCsv(path, {}, { fieldnames: ["x", "y"] });
    expect(sink.events).toEqual([
      { x: "1", y: "2" },
      { x: "3", y: "4" },
    ]);
    expect(sink.contexts.map((c) => c.line)).toEqual([1, 2]);
  });

  it("follows the dialect: delimiter, quote character, excel-tab, skipinitialspace, escapechar, QUOTE_NONE, QUOTE_NONNUMERIC", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "semi.csv"), "a;b\n'x;y';'it''s'\n");
    expect((await readCsv(join(dir, "semi.csv"), { delimiter: ";", quotechar: "'" })).sink.events).toEqual([{ a: "x;y", b: "it's" }]);

    await writeFile(join(dir, "tab.csv"), "a\tb\n1\t2,3\n");
    expect((await readCsv(join(dir, "tab.csv"), { dialect: "excel-tab" })).sink.events).toEqual([{ a: "1", b: "2,3" }]);
    await writeFile(join(dir, "tab2.csv"), "a\tb\n1\t2,3\n");
    expect((await readCsv(join(dir, "tab2.csv"), { delimiter: "\\t" })).sink.events).toEqual([{ a: "1", b: "2,3" }]);

    await writeFile(join(dir, "space.csv"), "a, b\n1, \"2\"\n");
    expect((await readCsv(join(dir, "space.csv"), { skipinitialspace: true })).sink.events).toEqual([{ a: "1", b: "2" }]);

    await writeFile(join(dir, "esc.csv"), 'a,b\n"say \\"hi\\"",2\n');
    expect((await readCsv(join(dir, "esc.csv"), { doublequote: false, escapechar: "\\" })).sink.events).toEqual([{ a: 'say "hi"', b: "2" }]);

    await writeFile(join(dir, "none.csv"), 'a,b\n"x",y\n');
    expect((await readCsv(join(dir, "none.csv"), { quoting: QUOTE_NONE })).sink.events).toEqual([{ a: '"x"', b: "y" }]);

    await writeFile(join(dir, "num.csv"), 'a,b,c\n1.5,"2",-3\n');
    expect((await readCsv(join(dir, "num.csv"), { quoting: QUOTE_NONNUMERIC })).sink.events).toEqual([{ a: 1.5, b: "2", c: -3 }]);
  });

  it("reports malformed rows and bad bytes with file and line, counts them as warnings under a soft policy, and reads on", async () => {
    const dir = await tempDir();
    const path = join(dir, "bad.csv");
    const text = Buffer.concat([
      Buffer.from('a,b\r\n1,"first\r\nsecond"\r\n2,2,2\r\n3,3\r\n4\r\n5,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\r\n6,"x\r\ny"\r\n7,7,7\r\n8,8\r\n'),
    ]);
    await writeFile(path, text);
    const { sink, pipeline, source } = await readCsv(path, {}, { soft: true });
    expect(sink.events).toEqual([
      { a: "1", b: "first\r\nsecond" },
      { a: "3", b: "3" },
      { a: "6", b: "x\r\ny" },
      { a: "8", b: "8" },
    ]);
    expect(sink.contexts.map((c) => c.line)).toEqual([2, 5, 8, 11]);
    expect(pipeline.metricsSnapshot().warning).toBe(4);
    expect(source.stats.malformed).toBe(4);
    const errors = softErrors();
    // The first soft error is logged; those within the next 10 s are counted (alsoSince) rather than logged.
    expect(errors[0]).toBe(`${path}:4: Invalid Record Length: columns length is 2, got 3`);
    expect(await listFiles(dir)).toEqual(["bad.csv-processed"]);
  });

  it("reports each malformed row to the pipeline with its file and line (seen by handleError)", async () => {
    const dir = await tempDir();
    const path = join(dir, "bad.csv");
    await writeFile(path, Buffer.concat([Buffer.from('a,b\r\n1,"x\r\ny"\r\n2,2,2\r\n3\r\n4,'), Buffer.from([0xc3, 0x28]), Buffer.from("\r\n5,5\r\n")]));
    const app = createApp();
    const seen: { message: string; line: unknown; code: unknown }[] = [];
    class Recording extends Pipeline {
      override handleError(error: unknown, context: Context | undefined): boolean {
        seen.push({ message: (error as Error).message, line: context?.line, code: (error as { code?: unknown }).code });
        return true;
      }
    }
    const pipeline = new Recording(app, "P");
    const source = new FileCSVSource(app, pipeline, null, { config: { path } });
    const sink = new UnitTestSink<CsvRow>(app, pipeline);
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    await runCycles(pipeline, trigger, cycleCounter(pipeline));
    await source.idle();
    expect(seen).toEqual([
      { message: `${path}:4: Invalid Record Length: columns length is 2, got 3`, line: 4, code: "PUMP_FILE_FORMAT" },
      { message: `${path}:5: Invalid Record Length: columns length is 2, got 1`, line: 5, code: "PUMP_FILE_FORMAT" },
      { message: `${path}:6: bytes that are not valid utf-8`, line: 6, code: "PUMP_FILE_ENCODING" },
    ]);
    expect(sink.events).toEqual([
      { a: "1", b: "x\r\ny" },
      { a: "5", b: "5" },
    ]);
    await pipeline.stop();
  });

  it("strict = true rejects a quote inside an unquoted field", async () => {
    const dir = await tempDir();
    const path = join(dir, "q.csv");
    await writeFile(path, 'a,b\nx"y,1\n2,2\n');
    const strict = await readCsv(path, { strict: true }, { soft: true });
    expect(strict.sink.events).toEqual([{ a: "2", b: "2" }]);
    expect(softErrors()[0]).toMatch(new RegExp(`^${path.replaceAll("/", "\\/")}:2: Invalid Opening Quote`));
    await writeFile(path, 'a,b\nx"y,1\n2,2\n');
    const relaxed = await readCsv(path, {}, { soft: true });
    expect(relaxed.sink.events).toEqual([
      { a: 'x"y', b: "1" },
      { a: "2", b: "2" },
    ]);
  });

  it("under the default hard policy a malformed row stops the pipeline until the error is cleared", async () => {
    const dir = await tempDir();
    const path = join(dir, "a.csv");
    await writeFile(path, "a,b\n1,1\n2\n3,3\n");
    const { pipeline, source, sink, trigger, counter } = setup({ path });
    await pipeline.start();
    trigger.fire();
    await until(() => pipeline.isError(), "the hard error");
    expect(pipeline.error!.context).toMatchObject({ filename: path, line: 3 });
    pipeline.clearError();
    await until(() => counter.ends === 1, "the cycle");
    await source.idle();
    expect(sink.events).toEqual([
      { a: "1", b: "1" },
      { a: "3", b: "3" },
    ]);
    expect(await listFiles(dir)).toEqual(["a.csv-processed"]);
    await pipeline.stop();
  });
});

const EXCEL: CsvDialect = {
  delimiter: ",",
  quotechar: '"',
  escapechar: undefined,
  doublequote: true,
  skipinitialspace: false,
  lineterminator: "\r\n",
  quoting: QUOTE_MINIMAL,
  strict: false,
};

describe("formatCsvRow", () => {
  it("quotes as Python's csv writer does", () => {
    expect(formatCsvRow(["a", "b,c", 'q"q', "l\nb", 1, null, undefined, true], EXCEL)).toBe('a,"b,c","q""q","l\nb",1,,,true\r\n');
    expect(formatCsvRow([""], EXCEL)).toBe('""\r\n');
    expect(formatCsvRow(["a", 1], { ...EXCEL, quoting: QUOTE_ALL })).toBe('"a","1"\r\n');
    expect(formatCsvRow(["a", 1, 2.5], { ...EXCEL, quoting: QUOTE_NONNUMERIC })).toBe('"a",1,2.5\r\n');
    expect(formatCsvRow(["a,b", "c"], { ...EXCEL, quoting: QUOTE_NONE, escapechar: "\\" })).toBe("a\\,b,c\r\n");
    expect(() => formatCsvRow(["a,b"], { ...EXCEL, quoting: QUOTE_NONE })).toThrow(/no escapechar/);
    expect(formatCsvRow(['say "hi"'], { ...EXCEL, doublequote: false, escapechar: "\\" })).toBe('"say \\"hi\\""\r\n');
    expect(formatCsvRow([{ x: 1 }, new Date(0)], EXCEL)).toBe('"{""x"":1}",1970-01-01T00:00:00.000Z\r\n');
  });
});

/** Hands its rows to the pipeline with a tracked delivery each, and records the settlements. */
class RowSource extends Source<Record<string, unknown>> {
  rows: { row: Record<string, unknown>; context?: Context }[] = [];
  readonly settled: { token: number; error: unknown }[] = [];

  async main(): Promise<void> {
    await this.pipeline.ready();
    const contexts = this.rows.map((r, i) => ({ ...r.context, [DELIVERY]: new Delivery<number>((d, error) => this.settled.push({ token: d.token, error }), i) }));
    await this.processBatch(
      this.rows.map((r) => r.row),
      contexts,
    );
  }
}

describe("FileCSVSink", () => {
  it("writes a header from the first row and the rows, and confirms each row once it is in the file", async () => {
    const dir = await tempDir();
    const path = join(dir, "out.csv");
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new RowSource(app, pipeline);
    source.rows = [{ row: { id: 1, name: "Ann, A." } }, { row: { id: 2, name: 'B "b"' } }, { row: { name: "no id" } }];
    const sink = new FileCSVSink(app, pipeline, { config: { path } });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => source.settled.length === 3, "3 settlements");
    expect(source.settled.map((s) => s.error)).toEqual([undefined, undefined, undefined]);
    expect(await readFile(path, "utf8")).toBe('id,name\n1,"Ann, A."\n2,"B ""b"""\n,no id\n');
    await pipeline.stop();

    // and it reads back
    const back = await readCsv(path);
    expect(back.sink.events).toEqual([
      { id: "1", name: "Ann, A." },
      { id: "2", name: 'B "b"' },
      { id: "", name: "no id" },
    ]);
  });

  it("takes the file from context.path per event, and rotate() starts new files", async () => {
    const dir = await tempDir();
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new RowSource(app, pipeline);
    source.rows = [
      { row: { k: "a1" }, context: { path: join(dir, "a.csv") } },
      { row: { k: "b1" }, context: { path: join(dir, "b.csv") } },
      { row: { k: "a2" }, context: { path: join(dir, "a.csv") } },
      { row: { k: "default" } },
    ];
    const sink = new FileCSVSink(app, pipeline, { config: { path: join(dir, "default.csv"), dialect: "unix", lineterminator: "" } });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => source.settled.length === 4, "4 settlements");
    await sink.rotate();
    expect(await readFile(join(dir, "a.csv"), "utf8")).toBe('"k"\n"a1"\n"a2"\n');
    expect(await readFile(join(dir, "b.csv"), "utf8")).toBe('"k"\n"b1"\n');
    expect(await readFile(join(dir, "default.csv"), "utf8")).toBe('"k"\n"default"\n');
    await pipeline.stop();
  });

  it("a row with a field the header does not have is an error of the pipeline; the delivery fails under a hard policy", async () => {
    const dir = await tempDir();
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new RowSource(app, pipeline);
    source.rows = [{ row: { a: 1 } }, { row: { a: 2, extra: 3 } }];
    const sink = new FileCSVSink(app, pipeline, { config: { path: join(dir, "x.csv") } });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => source.settled.length === 2, "2 settlements");
    expect(pipeline.isError()).toBe(true);
    expect((pipeline.error!.error as Error).message).toBe(`${join(dir, "x.csv")}: the row has a field 'extra' the header does not have (a)`);
    expect(source.settled.find((s) => s.token === 1)!.error).toBeInstanceOf(Error);
    expect(source.settled.find((s) => s.token === 0)!.error).toBeUndefined();
    await pipeline.stop();
  });

  it("throttles the pipeline while the write buffer is full, and writes everything", async () => {
    const dir = await tempDir();
    const path = join(dir, "big.csv");
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new RowSource(app, pipeline);
    source.rows = Array.from({ length: 5000 }, (_, i) => ({ row: { i, text: "x".repeat(50) } }));
    const sink = new FileCSVSink(app, pipeline, { config: { path, write_buffer_size: 1024 } });
    let throttled = 0;
    pipeline.pubsub.subscribe("bspump.pipeline.not_ready!", () => {
      if (pipeline.getThrottles().has(sink)) throttled++;
    });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => source.settled.length === 5000, "5000 settlements");
    expect(throttled).toBeGreaterThan(0);
    expect(pipeline.isReady()).toBe(true);
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines).toHaveLength(5002);
    expect(lines[5000]).toBe(`4999,${"x".repeat(50)}`);
    await pipeline.stop();
  });

  it("fails the deliveries of rows it could not write", async () => {
    const dir = await tempDir();
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new RowSource(app, pipeline);
    source.rows = [{ row: { a: 1 } }];
    const sink = new FileCSVSink(app, pipeline, { config: { path: join(dir, "no", "such", "dir.csv") } });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => source.settled.length === 1, "the settlement");
    expect((source.settled[0]!.error as Error).message).toContain("cannot write");
    await pipeline.stop();
  });
});

import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Pipeline, type Context } from "@pump/core";
import { FileLineSource, FileMultiLineSource, type FileContext, type Line } from "../src/index.js";
import { records } from "./setup.js";
import { UnitTestSink, LateSink, SoftPipeline, createApp, cycleCounter, listFiles, manualTrigger, runCycles, tempDir, until } from "./helpers.js";

/** A FileLineSource that counts its batches. */
class CountingLineSource extends FileLineSource {
  batches = 0;
  override processBatch(events: readonly Line[], contexts?: readonly Context[]): Promise<void> {
    this.batches++;
    return super.processBatch(events, contexts);
  }
}

function lines(count: number, prefix = "line"): string {
  let text = "";
  for (let i = 1; i <= count; i++) text += `${prefix} ${i} ${"x".repeat(i % 37)}\n`;
  return text;
}

function setup(config: Record<string, string | number | boolean>, options: { soft?: boolean } = {}) {
  const app = createApp();
  const pipeline = options.soft === true ? new SoftPipeline(app, "P") : new Pipeline(app, "P");
  const source = new CountingLineSource(app, pipeline, { config });
  const sink = new UnitTestSink<Line>(app, pipeline);
  pipeline.build(source, sink);
  const trigger = manualTrigger(app);
  source.on(trigger);
  return { app, pipeline, source, sink, trigger, counter: cycleCounter(pipeline) };
}

describe("FileLineSource", () => {
  it("streams a file larger than the read buffer, one batch per chunk, lines whole with their terminators and numbers", async () => {
    const dir = await tempDir();
    const text = lines(5000);
    await writeFile(join(dir, "big.log"), text);
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "*.log"), read_buffer_size: 4096 });
    await runCycles(pipeline, trigger, counter);
    await source.idle();

    expect(sink.events.map((e) => (e as Buffer).toString()).join("")).toBe(text);
    expect(sink.events.length).toBe(5000);
    expect(Buffer.isBuffer(sink.events[0])).toBe(true);
    expect((sink.events[0] as Buffer).toString()).toBe("line 1 x\n");
    expect(sink.contexts.map((c) => (c as FileContext).line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(sink.contexts.every((c) => c.filename === join(dir, "big.log"))).toBe(true);
    // one batch per 4 KiB read: the file was never taken whole
    expect(source.batches).toBeGreaterThanOrEqual(Math.floor(text.length / 4096));
    expect(await listFiles(dir)).toEqual(["big.log-processed"]);
    await pipeline.stop();
  });

  it("gives the last line without a terminator, and text in mode 'r'", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.txt"), "één\r\ntwee\ndrie");
    const { pipeline, sink, trigger, counter } = setup({ path: join(dir, "a.txt"), mode: "r" });
    await runCycles(pipeline, trigger, counter);
    expect(sink.events).toEqual(["één\r\n", "twee\n", "drie"]);
    await pipeline.stop();
  });

  it("reads every file of a recursive glob once, in sorted order, skipping locked, failed, processed and filtered names", async () => {
    const dir = await tempDir();
    const expected: string[] = [];
    for (let d = 0; d < 3; d++) {
      await mkdir(join(dir, `d${d}`, "deep"), { recursive: true });
      for (let f = 0; f < 10; f++) {
        const rel = f % 2 === 0 ? join(`d${d}`, `f${f}.log`) : join(`d${d}`, "deep", `f${f}.log`);
        await writeFile(join(dir, rel), `${rel}\n`);
        expected.push(join(dir, rel));
      }
    }
    await writeFile(join(dir, "d0", "other.txt"), "not matched\n");
    await writeFile(join(dir, "d0", "x.log-processed"), "done before\n");
    await writeFile(join(dir, "d0", "y.log-failed"), "failed before\n");
    await writeFile(join(dir, "d1", "skip.log"), "excluded\n");
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "**", "*.log"), files_per_cycle: 0, exclude: "*/skip.log" });
    await runCycles(pipeline, trigger, counter);
    await source.idle();

    expect(sink.contexts.map((c) => c.filename)).toEqual([...expected].toSorted());
    expect(sink.events.map((e) => e.toString().trim())).toEqual([...expected].toSorted().map((p) => p.slice(dir.length + 1)));
    const after = await listFiles(dir);
    expect(after.filter((f) => f.endsWith(".log-processed"))).toHaveLength(31);
    expect(after).toContain("d1/skip.log");
    expect(after).toContain("d0/other.txt");

    // Nothing is read twice: the next cycle finds no file.
    await runCycles(pipeline, trigger, counter);
    expect(counter.noFiles).toBe(1);
    expect(sink.events).toHaveLength(30);
    await pipeline.stop();
  });

  it("reads one file per cycle by default, as BSPump does; several globs are separated by ':'", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "b.log"), "b\n");
    await writeFile(join(dir, "a.csv"), "a\n");
    const { pipeline, source, sink, trigger, counter } = setup({ path: `${join(dir, "*.csv")}:${join(dir, "*.log")}` });
    await runCycles(pipeline, trigger, counter);
    expect(sink.events.map(String)).toEqual(["a\n"]);
    await runCycles(pipeline, trigger, counter);
    expect(sink.events.map(String)).toEqual(["a\n", "b\n"]);
    await runCycles(pipeline, trigger, counter);
    expect(counter.noFiles).toBe(1);
    await source.idle();
    await pipeline.stop();
  });

  it("post = delete removes the file, post = move with move_destination moves it there (the folder is created)", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log"), "a\n");
    const del = setup({ path: join(dir, "a.log"), post: "delete" });
    await runCycles(del.pipeline, del.trigger, del.counter);
    await del.source.idle();
    expect(await listFiles(dir)).toEqual([]);
    await del.pipeline.stop();

    await writeFile(join(dir, "b.log"), "b\n");
    const move = setup({ path: join(dir, "*.log"), post: "move", move_destination: join(dir, "done", "today") });
    await runCycles(move.pipeline, move.trigger, move.counter);
    await move.source.idle();
    expect(await listFiles(dir)).toEqual(["done/today/b.log-processed"]);
    await move.pipeline.stop();
  });

  it("post = noop puts the file back under its name, so the next cycle reads it again", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log"), "a\n");
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "a.log"), post: "noop" });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(await listFiles(dir)).toEqual(["a.log"]);
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events.map(String)).toEqual(["a\n", "a\n"]);
    await pipeline.stop();
  });

  it("post-processes a file only once every event of it is confirmed by a sink that confirms late", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log"), lines(3000));
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "*.log"), read_buffer_size: 1024 } });
    const sink = new LateSink<Line>(app, pipeline);
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    const counter = cycleCounter(pipeline);
    await runCycles(pipeline, trigger, counter);

    expect(sink.held).toHaveLength(3000);
    expect(await listFiles(dir)).toEqual(["a.log-locked"]);
    sink.confirm(2999);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await listFiles(dir)).toEqual(["a.log-locked"]);
    expect(source.pendingFiles).toBe(1);
    sink.confirm();
    await source.idle();
    expect(await listFiles(dir)).toEqual(["a.log-processed"]);
    expect(source.pendingFiles).toBe(0);
    expect(source.stats.processed).toBe(1);
    await pipeline.stop();
  });

  it("a stop before confirmation leaves the file unprocessed, and a restarted pump reads it again", async () => {
    const dir = await tempDir();
    const text = lines(500);
    await writeFile(join(dir, "a.log"), text);
    const first = (() => {
      const app = createApp();
      const pipeline = new Pipeline(app, "P");
      const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "*.log") } });
      const sink = new LateSink<Line>(app, pipeline); // never confirms: the pump dies with the events unconfirmed
      pipeline.build(source, sink);
      const trigger = manualTrigger(app);
      source.on(trigger);
      return { pipeline, source, sink, trigger, counter: cycleCounter(pipeline) };
    })();
    await runCycles(first.pipeline, first.trigger, first.counter);
    expect(first.sink.held).toHaveLength(500);
    await first.pipeline.stop();
    expect(await listFiles(dir)).toEqual(["a.log-locked"]); // not post-processed

    // The restarted pump finds the file a stopped pump left locked, puts it back and reads it all again.
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "*.log") } });
    const sink = new LateSink<Line>(app, pipeline);
    sink.flushOnStop = true;
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    const counter = cycleCounter(pipeline);
    await runCycles(pipeline, trigger, counter);
    expect(source.stats.recovered).toBe(1);
    expect(sink.held.map((h) => String(h.event)).join("")).toBe(text);
    await pipeline.stop(); // the sink confirms on stop: the file is done
    await source.idle();
    expect(await listFiles(dir)).toEqual(["a.log-processed"]);
  });

  it("a sink that fails the events on stop puts the file back at once", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log"), lines(10));
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "*.log") } });
    const sink = new LateSink<Line>(app, pipeline);
    sink.failOnStop = new Error("server gone");
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    const counter = cycleCounter(pipeline);
    await runCycles(pipeline, trigger, counter);
    await pipeline.stop();
    await source.idle();
    expect(await listFiles(dir)).toEqual(["a.log"]);
    expect(source.stats.returned).toBe(1);
    expect(records.some((r) => r.message.includes("will be read again"))).toBe(true);
  });

  it("a stop in the middle of a file leaves it unprocessed; the restarted pump reads it from the start", async () => {
    const dir = await tempDir();
    const text = lines(20_000);
    await writeFile(join(dir, "a.log"), text);
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "*.log"), read_buffer_size: 1024 } });
    const sink = new LateSink<Line>(app, pipeline);
    sink.limit = 100;
    sink.flushOnStop = true; // what it took is confirmed; the rest of the file was never read
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    await pipeline.start();
    trigger.fire();
    await until(() => sink.held.length >= 100, "the sink to fill");
    await pipeline.stop();
    await source.idle();
    expect(sink.confirmed.length).toBeLessThan(20_000);
    expect(await listFiles(dir)).toEqual(["a.log"]);

    const app2 = createApp();
    const pipeline2 = new Pipeline(app2, "P");
    const source2 = new FileLineSource(app2, pipeline2, { config: { path: join(dir, "*.log") } });
    const sink2 = new UnitTestSink<Line>(app2, pipeline2);
    pipeline2.build(source2, sink2);
    const trigger2 = manualTrigger(app2);
    source2.on(trigger2);
    await runCycles(pipeline2, trigger2, cycleCounter(pipeline2));
    await source2.idle();
    expect(sink2.events.map(String).join("")).toBe(text);
    expect(await listFiles(dir)).toEqual(["a.log-processed"]);
    await pipeline2.stop();
  });

  it("reads lines appended while the file is being read", async () => {
    const dir = await tempDir();
    const path = join(dir, "grow.log");
    await writeFile(path, lines(2000, "first"));
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileLineSource(app, pipeline, { config: { path, read_buffer_size: 1024 } });
    const sink = new LateSink<Line>(app, pipeline);
    sink.limit = 50;
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    const counter = cycleCounter(pipeline);
    await pipeline.start();
    trigger.fire();
    await until(() => sink.held.length >= 50, "the sink to fill");
    // The writer still has the file open: it appends to what is now `grow.log-locked`.
    await appendFile(`${path}-locked`, lines(500, "appended"));
    while (counter.ends === 0) {
      sink.confirm();
      await new Promise((resolve) => setImmediate(resolve));
    }
    sink.confirm();
    await source.idle();
    const got = sink.confirmed.map(String);
    expect(got).toHaveLength(2500);
    expect(got.join("")).toBe(lines(2000, "first") + lines(500, "appended"));
    expect(await listFiles(dir)).toEqual(["grow.log-processed"]);
    await pipeline.stop();
  });

  it("under a slow sink the source throttles and reads at most one buffer ahead of what the pipeline took", async () => {
    const dir = await tempDir();
    const lineLength = 32;
    const count = 50_000;
    await writeFile(join(dir, "a.log"), Array.from({ length: count }, (_, i) => `${String(i).padStart(lineLength - 1, "0")}\n`).join(""));
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const readBuffer = 4096;
    const source = new FileLineSource(app, pipeline, { config: { path: join(dir, "a.log"), read_buffer_size: readBuffer } });
    const limit = 200;
    let maxAhead = 0;
    let maxUnsettled = 0;
    class WatchingSink extends LateSink<Line> {
      override process(context: Context, event: Line): void {
        super.process(context, event);
        const current = source.restGet().Current as { bytesRead: number } | undefined;
        if (current !== undefined) maxAhead = Math.max(maxAhead, current.bytesRead - this.received * lineLength);
        maxUnsettled = Math.max(maxUnsettled, source.stats.events + readBuffer / lineLength - this.confirmed.length);
      }
    }
    const sink = new WatchingSink(app, pipeline);
    sink.limit = limit;
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    const counter = cycleCounter(pipeline);
    await pipeline.start();
    trigger.fire();
    let throttledSeen = 0;
    while (sink.confirmed.length < count) {
      if (pipeline.getThrottles().has(sink)) throttledSeen++;
      sink.confirm(Math.min(sink.held.length, 25)); // a slow sink: 25 events per turn of the loop
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => counter.ends === 1, "the cycle to end");
    await source.idle();
    expect(throttledSeen).toBeGreaterThan(0);
    expect(sink.maxHeld).toBeLessThanOrEqual(limit + readBuffer / lineLength); // the sink's limit plus one batch
    expect(maxAhead).toBeLessThanOrEqual(readBuffer); // never more than one read buffer ahead
    expect(maxUnsettled).toBeLessThanOrEqual(limit + 2 * (readBuffer / lineLength));
    expect(sink.confirmed.map((e) => Number(String(e)))).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(await listFiles(dir)).toEqual(["a.log-processed"]);
    await pipeline.stop();
  });

  it("reports a line that does not decode with its file and line, counts a warning under a soft policy and goes on", async () => {
    const dir = await tempDir();
    const path = join(dir, "a.txt");
    await writeFile(path, Buffer.concat([Buffer.from("ok 1\n"), Buffer.from([0x62, 0xff, 0xfe, 0x0a]), Buffer.from("ok 3\n")]));
    const { pipeline, source, sink, trigger, counter } = setup({ path, mode: "r" }, { soft: true });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events).toEqual(["ok 1\n", "ok 3\n"]);
    expect(sink.contexts.map((c) => c.line)).toEqual([1, 3]);
    expect(pipeline.metricsSnapshot().warning).toBe(1);
    expect(source.stats.malformed).toBe(1);
    const warning = records.find((r) => r.message === "Event dropped by a soft error");
    expect(String((warning!.fields.error as Error).message)).toBe(`${path}:2: bytes that are not valid utf-8`);
    expect((warning!.fields.error as { code: string }).code).toBe("PUMP_FILE_ENCODING");
    expect(await listFiles(dir)).toEqual(["a.txt-processed"]);
    await pipeline.stop();
  });

  it("a line longer than max_record_size is reported and skipped without being held in memory", async () => {
    const dir = await tempDir();
    const path = join(dir, "a.log");
    await writeFile(path, `short\n${"y".repeat(10_000)}\nafter\n${"z".repeat(5000)}`);
    const { pipeline, source, sink, trigger, counter } = setup({ path, max_record_size: 100, read_buffer_size: 512 }, { soft: true });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events.map(String)).toEqual(["short\n", "after\n"]);
    expect(sink.contexts.map((c) => c.line)).toEqual([1, 3]);
    expect(pipeline.metricsSnapshot().warning).toBe(2);
    const errors = records.filter((r) => r.message === "Event dropped by a soft error" || r.fields.alsoSince !== undefined);
    expect(String((errors[0]!.fields.error as Error).message)).toContain(`${path}:2: record longer than max_record_size (100 bytes)`);
    await pipeline.stop();
  });

  it("under the default hard policy a bad line stops the pipeline; once the error is cleared the file is read to its end", async () => {
    const dir = await tempDir();
    const path = join(dir, "a.txt");
    await writeFile(path, Buffer.concat([Buffer.from("one\n"), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from("three\nfour\n")]));
    const { pipeline, source, sink, trigger, counter } = setup({ path, mode: "r" });
    await pipeline.start();
    trigger.fire();
    await until(() => pipeline.isError(), "the hard error");
    expect(pipeline.error?.componentId).toBe("CountingLineSource");
    expect((pipeline.error!.context as FileContext).line).toBe(2);
    expect(sink.events).toEqual(["one\n"]);
    pipeline.clearError();
    await until(() => counter.ends === 1, "the cycle to end");
    await source.idle();
    expect(sink.events).toEqual(["one\n", "three\n", "four\n"]);
    expect(await listFiles(dir)).toEqual(["a.txt-processed"]);
    await pipeline.stop();
  });

  it("reads .gz files transparently; a corrupt one becomes -failed", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log.gz"), gzipSync(lines(1000)));
    await writeFile(join(dir, "b.log.gz"), Buffer.concat([gzipSync(lines(10)).subarray(0, 30), Buffer.from("garbage")]));
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "*.gz"), files_per_cycle: 0 });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.contexts.filter((c) => c.filename === join(dir, "a.log.gz")).length).toBe(1000);
    expect(sink.events.slice(0, 1000).map(String).join("")).toBe(lines(1000));
    expect(await listFiles(dir)).toEqual(["a.log.gz-processed", "b.log.gz-failed"]);
    expect(source.stats.failed).toBe(1);
    expect(records.some((r) => r.message === "Cannot read from file" && r.fields.filename === join(dir, "b.log.gz"))).toBe(true);
    await pipeline.stop();
  });

  it("include keeps only matching paths", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "keep-1.log"), "k\n");
    await writeFile(join(dir, "drop-1.log"), "d\n");
    const { pipeline, source, sink, trigger, counter } = setup({ path: join(dir, "*"), include: "*/keep-*", files_per_cycle: 0 });
    await runCycles(pipeline, trigger, counter);
    await source.idle();
    expect(sink.events.map(String)).toEqual(["k\n"]);
    expect(await listFiles(dir)).toEqual(["drop-1.log", "keep-1.log-processed"]);
    await pipeline.stop();
  });

  it("rejects a bad configuration with the section and key", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    expect(() => new FileLineSource(app, pipeline, { config: { encoding: "utf-16le" } })).toThrow(/\[pipeline:P:FileLineSource\] key 'encoding'/);
    expect(() => new FileLineSource(app, pipeline, { id: "S2", config: { read_buffer_size: 0 } })).toThrow(/key 'read_buffer_size'/);
  });
});

describe("FileMultiLineSource", () => {
  it("starts an event at each line beginning with the separator, keeping the lines as they are, across read buffers", async () => {
    const dir = await tempDir();
    const path = join(dir, "sys.log");
    const events: string[] = ["preamble without separator\n"];
    for (let i = 0; i < 300; i++) events.push(`<133>1 event ${i}\n${"  continued\n".repeat(i % 5)}`);
    await writeFile(path, events.join(""));
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new FileMultiLineSource(app, pipeline, "<", { config: { path, read_buffer_size: 256, mode: "r" } });
    const sink = new UnitTestSink<Line>(app, pipeline);
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    await runCycles(pipeline, trigger, cycleCounter(pipeline));
    await source.idle();
    expect(sink.events).toEqual(events);
    let line = 1;
    const starts = events.map((e) => {
      const start = line;
      line += e.split("\n").length - 1;
      return start;
    });
    expect(sink.contexts.map((c) => c.line)).toEqual(starts);
    expect(sink.contexts.every((c) => c.filename === path)).toBe(true);
    await pipeline.stop();
  });

  it("reports an event larger than max_record_size and goes on with the next", async () => {
    const dir = await tempDir();
    const path = join(dir, "sys.log");
    await writeFile(path, `#a\n${"x\n".repeat(200)}#b\nsmall\n`);
    const app = createApp();
    const pipeline = new SoftPipeline(app, "P");
    const source = new FileMultiLineSource(app, pipeline, Buffer.from("#"), { config: { path, max_record_size: 100 } });
    const sink = new UnitTestSink<Line>(app, pipeline);
    pipeline.build(source, sink);
    const trigger = manualTrigger(app);
    source.on(trigger);
    await runCycles(pipeline, trigger, cycleCounter(pipeline));
    await source.idle();
    expect(sink.events.map(String)).toEqual(["#b\nsmall\n"]);
    expect(pipeline.metricsSnapshot().warning).toBe(1);
    const warning = records.find((r) => r.message === "Event dropped by a soft error");
    expect(String((warning!.fields.error as Error).message)).toBe(`${path}:1: record longer than max_record_size (100 bytes)`);
    await pipeline.stop();
  });
});

describe("recovery at start", () => {
  it("leaves alone a file that a running source of the same process holds locked", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log"), "a\n");
    const app = createApp();
    const first = new Pipeline(app, "First");
    const firstSource = new FileLineSource(app, first, { config: { path: join(dir, "*.log") } });
    const late = new LateSink<Line>(app, first);
    first.build(firstSource, late);
    const trigger = manualTrigger(app);
    firstSource.on(trigger);
    await runCycles(first, trigger, cycleCounter(first));
    expect(await listFiles(dir)).toEqual(["a.log-locked"]);

    const second = setup({ path: join(dir, "*.log") });
    await runCycles(second.pipeline, second.trigger, second.counter);
    expect(second.source.stats.recovered).toBe(0);
    expect(second.sink.events).toEqual([]);
    expect(await listFiles(dir)).toEqual(["a.log-locked"]);

    late.confirm();
    await firstSource.idle();
    expect(await listFiles(dir)).toEqual(["a.log-processed"]);
    await first.stop();
    await second.pipeline.stop();
  });


  it("puts back -locked files of the glob a stopped pump left, unless recover_locked is off", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.log-locked"), "a\n");
    const off = setup({ path: join(dir, "*.log"), recover_locked: false });
    await runCycles(off.pipeline, off.trigger, off.counter);
    expect(off.sink.events).toEqual([]);
    expect(await listFiles(dir)).toEqual(["a.log-locked"]);
    await off.pipeline.stop();

    const on = setup({ path: join(dir, "*.log") });
    await runCycles(on.pipeline, on.trigger, on.counter);
    await on.source.idle();
    expect(on.sink.events.map(String)).toEqual(["a\n"]);
    expect(await readFile(join(dir, "a.log-processed"), "utf8")).toBe("a\n");
    await on.pipeline.stop();
  });
});

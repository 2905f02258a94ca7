import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DELIVERY, Delivery, Pipeline, Source } from "@pump/core";
import { FileBlockSink, FileBlockSource } from "../src/index.js";
import { UnitTestSink, createApp, cycleCounter, listFiles, manualTrigger, runCycles, tempDir, until } from "./helpers.js";

async function readBlocks(config: Record<string, string | number | boolean>) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  const source = new FileBlockSource(app, pipeline, { config });
  const sink = new UnitTestSink<Buffer | string>(app, pipeline);
  pipeline.build(source, sink);
  const trigger = manualTrigger(app);
  source.on(trigger);
  await runCycles(pipeline, trigger, cycleCounter(pipeline));
  await source.idle();
  await pipeline.stop();
  return sink;
}

describe("FileBlockSource", () => {
  it("gives a whole file as one event: bytes, or text with mode 'r'", async () => {
    const dir = await tempDir();
    const content = Buffer.from("první\nřádek\n".repeat(5000));
    await writeFile(join(dir, "a.bin"), content);
    const bytes = await readBlocks({ path: join(dir, "a.bin"), post: "noop", read_buffer_size: 1000 });
    expect(bytes.events).toHaveLength(1);
    expect(Buffer.compare(bytes.events[0] as Buffer, content)).toBe(0);
    expect(bytes.contexts[0]).toMatchObject({ filename: join(dir, "a.bin") });
    const text = await readBlocks({ path: join(dir, "a.bin"), mode: "r" });
    expect(text.events).toEqual([content.toString()]);
    expect(await listFiles(dir)).toEqual(["a.bin-processed"]);
  });

  it("with block_size cuts the file into blocks; in text mode a character split between blocks stays whole", async () => {
    const dir = await tempDir();
    const content = Buffer.from("ž".repeat(1001)); // two bytes each: every 3-byte block splits one
    await writeFile(join(dir, "a.txt"), content);
    const bytes = await readBlocks({ path: join(dir, "a.txt"), block_size: 3, post: "noop" });
    expect(bytes.events).toHaveLength(Math.ceil(content.length / 3));
    expect(Buffer.concat(bytes.events as Buffer[]).equals(content)).toBe(true);
    const text = await readBlocks({ path: join(dir, "a.txt"), block_size: 3, mode: "r" });
    expect((text.events as string[]).join("")).toBe(content.toString());
    expect(text.events.every((e) => typeof e === "string" && !e.includes("\uFFFD"))).toBe(true);
  });
});

/** Hands its events over with a tracked delivery each, and records the settlements. */
class EventSource extends Source<Buffer | string> {
  events: { event: Buffer | string; path?: string }[] = [];
  readonly settled: { token: number; error: unknown }[] = [];

  async main(): Promise<void> {
    await this.pipeline.ready();
    await this.processBatch(
      this.events.map((e) => e.event),
      this.events.map((e, i) => ({ ...(e.path === undefined ? {} : { path: e.path }), [DELIVERY]: new Delivery<number>((d, error) => this.settled.push({ token: d.token, error }), i) })),
    );
  }
}

async function writeBlocks(config: Record<string, string | number | boolean>, events: EventSource["events"]) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  const source = new EventSource(app, pipeline);
  source.events = events;
  const sink = new FileBlockSink(app, pipeline, { config });
  pipeline.build(source, sink);
  await pipeline.start();
  await until(() => source.settled.length === events.length || pipeline.isError(), "the events to settle");
  await pipeline.stop();
  return { source, pipeline };
}

describe("FileBlockSink", () => {
  it("writes each event into the file, from its start and without truncating it (BSPump's O_CREAT)", async () => {
    const dir = await tempDir();
    const path = join(dir, "out.bin");
    await writeFile(path, "123456789");
    const { source } = await writeBlocks({ path }, [{ event: Buffer.from("abc") }]);
    expect(source.settled).toEqual([{ token: 0, error: undefined }]);
    expect(await readFile(path, "utf8")).toBe("abc456789");
  });

  it("takes O_TRUNC and O_APPEND, a mode with 'a', and the file from context.path", async () => {
    const dir = await tempDir();
    const path = join(dir, "out.txt");
    await writeFile(path, "old content");
    await writeBlocks({ path, flags: "O_CREAT, O_TRUNC" }, [{ event: "new" }]);
    expect(await readFile(path, "utf8")).toBe("new");
    await writeBlocks({ path, flags: "O_CREAT,O_APPEND" }, [{ event: "+1" }, { event: "+2" }]);
    expect(await readFile(path, "utf8")).toBe("new+1+2");
    await writeBlocks({ path, mode: "ab" }, [{ event: "+3" }]);
    expect(await readFile(path, "utf8")).toBe("new+1+2+3");
    await writeBlocks({ path, flags: "O_CREAT,O_TRUNC" }, [{ event: "elsewhere", path: join(dir, "other.txt") }]);
    expect(await readFile(join(dir, "other.txt"), "utf8")).toBe("elsewhere");
  });

  it("an event it cannot write (O_EXCL on an existing file) is a pipeline error and its delivery fails", async () => {
    const dir = await tempDir();
    const path = join(dir, "exists.txt");
    await writeFile(path, "x");
    const { source, pipeline } = await writeBlocks({ path, flags: "O_CREAT,O_EXCL" }, [{ event: "y" }]);
    expect(pipeline.isError()).toBe(true);
    expect((pipeline.error!.error as Error).message).toBe(`${path}: cannot open`);
    expect(source.settled[0]!.error).toBeInstanceOf(Error);
    expect(await readFile(path, "utf8")).toBe("x");
  });

  it("rejects an unknown flag with the section and key", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    expect(() => new FileBlockSink(app, pipeline, { config: { flags: "O_CREAT,O_NOPE" } })).toThrow(/\[pipeline:P:FileBlockSink\] key 'flags': unknown flag 'O_NOPE'/);
  });
});

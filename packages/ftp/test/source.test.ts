import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { Pipeline, Trigger, type PumpApplication, type Sink } from "@pump/core";
import { TcpProxy } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { FTPConnection, FTPConnectionError, FTPRecordError, FTPSource, type FTPContext } from "../src/index.js";
import { UnitTestSink, SlowSink, TestFtp, createApp, unique, until } from "./helpers.js";

/** Fires one cycle and waits for it to end. */
async function cycle(trigger: Trigger, pipeline: Pipeline): Promise<void> {
  let ended = false;
  const off = (): void => {
    ended = true;
  };
  pipeline.pubsub.subscribe("bspump.pipeline.cycle_end!", off);
  trigger.fire();
  await until(() => ended, "the end of the cycle");
  pipeline.pubsub.unsubscribe("bspump.pipeline.cycle_end!", off);
}

describeWithServer("FTPSource against the FTP server", "FTP_URL", (url) => {
  const ftp = new TestFtp(url);
  const dirs: string[] = [];
  const pipelines: Pipeline[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    await ftp.client();
  });
  afterEach(async () => {
    for (const pipeline of pipelines.splice(0)) await pipeline.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });
  afterAll(async () => {
    for (const dir of dirs) await ftp.remove(dir);
    ftp.close();
  });

  async function folder(prefix: string, files: Record<string, string | Buffer> = {}): Promise<string> {
    const dir = unique(prefix);
    dirs.push(dir);
    await ftp.mkdir(dir);
    for (const [name, content] of Object.entries(files)) await ftp.upload(`${dir}/${name}`, content);
    return dir;
  }

  /** FTPConnection(url) + FTPSource(config) → sink, fired by hand. */
  async function run<T, S extends Sink<T> = UnitTestSink<T>>(
    config: Record<string, string | number>,
    options: { sink?: (app: PumpApplication, p: Pipeline) => S; soft?: boolean; connection?: Record<string, string | number>; start?: boolean } = {},
  ) {
    const app = createApp();
    app.pumpService.addConnection(new FTPConnection(app, "FTPConnection", { config: { url, timeout: 10, ...options.connection } }));
    const pipeline = new Pipeline(app, "P");
    if (options.soft === true) pipeline.handleError = () => true;
    const trigger = new Trigger(app);
    const source = new FTPSource<T>(app, pipeline, "FTPConnection", { config: { fail_chilldown: 0.05, ...config } }).on(trigger);
    const sink = (options.sink?.(app, pipeline) ?? new UnitTestSink<T>(app, pipeline)) as S;
    pipeline.build(source, sink as Sink);
    pipelines.push(pipeline);
    if (options.start !== false) await pipeline.start();
    return { app, pipeline, trigger, source, sink };
  }

  it("reads the files of a folder matching the glob line by line; post=noop leaves them (BSPump reads them again)", async () => {
    const dir = await folder("lines", { "a.csv": "id,name\r\n1,tea\r\n2,cake", "b.csv": "id\n3\n", "notes.txt": "skip me\n" });
    const { trigger, pipeline, sink, source } = await run<string>({ remote_path: dir, glob: "*.csv", encoding: "utf-8" });
    await cycle(trigger, pipeline);
    expect(sink.events).toEqual(["id,name", "1,tea", "2,cake", "id", "3"]);
    const contexts = sink.contexts as FTPContext[];
    expect(contexts.map((c) => [c.filename, c.line])).toEqual([
      [`${dir}/a.csv`, 1],
      [`${dir}/a.csv`, 2],
      [`${dir}/a.csv`, 3],
      [`${dir}/b.csv`, 1],
      [`${dir}/b.csv`, 2],
    ]);
    expect(await ftp.names(dir)).toEqual(["a.csv", "b.csv", "notes.txt"]);
    expect(source.stats).toMatchObject({ files: 2, processed: 2, events: 5, returned: 0 });
    await cycle(trigger, pipeline);
    expect(sink.events.length).toBe(10);
  });

  it("emits Buffers by default, a whole file as one event (block), or the downloaded pieces (chunks)", async () => {
    const content = Buffer.concat([Buffer.from("héllo\nwörld\n"), Buffer.alloc(300_000, 0x61)]);
    const dir = await folder("formats", { "f.bin": content });
    const block = await run<Buffer>({ remote_path: dir, format: "block" });
    await cycle(block.trigger, block.pipeline);
    expect(block.sink.events.length).toBe(1);
    expect(Buffer.isBuffer(block.sink.events[0])).toBe(true);
    expect(block.sink.events[0]!.equals(content)).toBe(true);

    const chunks = await run<Buffer>({ remote_path: dir, format: "chunks" });
    await cycle(chunks.trigger, chunks.pipeline);
    expect(chunks.sink.events.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks.sink.events).equals(content)).toBe(true);

    const text = await run<string>({ remote_path: dir, filename: "f.bin", format: "block", encoding: "utf-8" });
    await cycle(text.trigger, text.pipeline);
    expect(text.sink.events[0]!.startsWith("héllo\nwörld\naaa")).toBe(true);
  });

  it("takes only `filename` when it is set (BSPump)", async () => {
    const dir = await folder("filename", { "one.txt": "1\n", "two.txt": "2\n" });
    const { trigger, pipeline, sink } = await run<Buffer>({ remote_path: dir, filename: "two.txt" });
    await cycle(trigger, pipeline);
    expect(sink.events.map(String)).toEqual(["2"]);
  });

  it("mode=p deletes a file only after every event of it was delivered", async () => {
    const dir = await folder("pop", { "orders.txt": "a\nb\nc\n", "more.txt": "d\n" });
    const { trigger, sink, source } = await run<string, SlowSink<string>>(
      { remote_path: dir, mode: "p", encoding: "utf-8" },
      { sink: (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 100 }) },
    );
    trigger.fire();
    await until(() => sink.held.length === 4, "every line in the sink");
    // Downloaded, not delivered: still there.
    expect(await ftp.names(dir)).toEqual(["more.txt", "orders.txt"]);
    sink.release(1);
    await until(() => source.stats.processed === 1, "the first file processed");
    expect(await ftp.names(dir)).toEqual(["orders.txt"]);
    sink.release();
    await until(() => source.stats.processed === 2, "both files processed");
    expect(await ftp.names(dir)).toEqual([]);
    expect(source.stats).toMatchObject({ files: 2, processed: 2, returned: 0 });
    expect(sink.released).toEqual(["d", "a", "b", "c"]);
  });

  it("post=move moves files into move_destination, or renames them -processed (then skipped)", async () => {
    const dir = await folder("move", { "x.log": "x\n", "y.log": "y\n" });
    const { trigger, pipeline } = await run<Buffer>({ remote_path: dir, post: "move", move_destination: "done" });
    await cycle(trigger, pipeline);
    expect(await ftp.names(dir)).toEqual(["done"]);
    expect(await ftp.names(`${dir}/done`)).toEqual(["x.log", "y.log"]);

    const dir2 = await folder("rename", { "z.log": "z\n" });
    const renamed = await run<Buffer>({ remote_path: dir2, post: "move" });
    await cycle(renamed.trigger, renamed.pipeline);
    expect(await ftp.names(dir2)).toEqual(["z.log-processed"]);
    await cycle(renamed.trigger, renamed.pipeline);
    expect(renamed.sink.events.map(String)).toEqual(["z"]);
  });

  it("leaves a file whose events failed in place, and reads it again in the next cycle", async () => {
    const dir = await folder("failed", { "f.txt": "1\n2\n" });
    const { trigger, sink, source } = await run<string, SlowSink<string>>(
      { remote_path: dir, post: "delete", encoding: "utf-8" },
      { sink: (app, p) => new SlowSink<string>(app, p) },
    );
    sink.failWith = new Error("the sink's server refused them");
    trigger.fire();
    await until(() => sink.held.length === 2, "the lines in the sink");
    sink.release();
    await until(() => source.stats.returned === 1, "the file returned");
    expect(await ftp.names(dir)).toEqual(["f.txt"]);
    sink.failWith = undefined;
    trigger.fire();
    await until(() => sink.held.length === 2, "the lines again");
    sink.release();
    await until(async () => (await ftp.names(dir)).length === 0, "the file deleted");
    expect(sink.released).toEqual(["1", "2"]);
  });

  it("streams a large file through a slow sink: the download waits, memory stays flat, every line in order", async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `row ${i} ${"x".repeat(20)}`);
    const dir = await folder("large", { "big.txt": `${lines.join("\n")}\n` });
    const { trigger, sink, pipeline } = await run<string, SlowSink<string>>(
      { remote_path: dir, encoding: "utf-8", post: "delete" },
      { sink: (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 200 }) },
    );
    trigger.fire();
    const releaser = setInterval(() => sink.release(), 2);
    try {
      await until(() => sink.released.length === lines.length, "every line", 3000);
    } finally {
      clearInterval(releaser);
    }
    expect(sink.released).toEqual(lines);
    // Never more than the sink's limit and one batch (at most 1000 lines) held: not the 6 MB file.
    expect(sink.peak).toBeLessThan(200 + 1000);
    await until(async () => (await ftp.names(dir)).length === 0, "the file deleted");
    expect(pipeline.isError()).toBe(false);
  });

  it("leaves a file in place when the pump stops in the middle of it; the next pump reads it again", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
    const dir = await folder("stop", { "half.txt": `${lines.join("\n")}\n` });
    const first = await run<string, SlowSink<string>>(
      { remote_path: dir, encoding: "utf-8", mode: "p" },
      { sink: (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 100 }) },
    );
    first.trigger.fire();
    await until(() => first.sink.held.length >= 100, "the first lines");
    first.sink.release(50);
    await first.pipeline.stop();
    pipelines.splice(pipelines.indexOf(first.pipeline), 1);
    expect(first.source.stats.processed).toBe(0);
    expect(first.source.stats.returned).toBeGreaterThan(0);
    expect(await ftp.names(dir)).toEqual(["half.txt"]);

    const second = await run<string>({ remote_path: dir, encoding: "utf-8", mode: "p" });
    await cycle(second.trigger, second.pipeline);
    expect(second.sink.events).toEqual(lines);
    expect(await ftp.names(dir)).toEqual([]);
  });

  it("reports malformed lines (too long, not UTF-8) under a soft policy: counted, skipped, the file goes on and is posted", async () => {
    const content = Buffer.concat([Buffer.from("ok 1\n"), Buffer.from(`${"y".repeat(5000)}\n`), Buffer.from([0x62, 0xff, 0x0a]), Buffer.from("ok 2\n")]);
    const dir = await folder("malformed", { "m.txt": content });
    const { trigger, pipeline, sink, source } = await run<string>({ remote_path: dir, encoding: "utf-8", max_line_size: 1000, post: "delete" }, { soft: true });
    await cycle(trigger, pipeline);
    expect(sink.events).toEqual(["ok 1", "ok 2"]);
    expect((sink.contexts as FTPContext[]).map((c) => c.line)).toEqual([1, 4]);
    expect(source.stats.malformed).toBe(2);
    expect(pipeline.metrics.warning).toBe(2);
    expect(await ftp.names(dir)).toEqual([]);
  });

  it("stops the pipeline on a malformed line under the default (hard) policy, and leaves the file", async () => {
    const dir = await folder("hard", { "h.txt": Buffer.from([0x61, 0x0a, 0xff, 0x0a, 0x63, 0x0a]) });
    const { trigger, pipeline, sink } = await run<string>({ remote_path: dir, encoding: "utf-8", post: "delete" });
    trigger.fire();
    await until(() => pipeline.isError(), "the hard error");
    const error = pipeline.error?.error;
    expect(error).toBeInstanceOf(FTPRecordError);
    expect((error as FTPRecordError).line).toBe(2);
    expect(sink.events).toEqual(["a"]);
    expect(await ftp.names(dir)).toEqual(["h.txt"]);
  });

  it("recovers when the server is unreachable at first and comes up later", async () => {
    const dir = await folder("down", { "d.txt": "after\n" });
    const { proxy, url: viaProxy } = await TcpProxy.to(url, 21);
    proxies.push(proxy);
    const { trigger, sink, source, pipeline } = await run<string>(
      { remote_path: dir, encoding: "utf-8", max_failed_retries: 1000 },
      { connection: { url: viaProxy } },
    );
    trigger.fire();
    await until(() => source.stats.failures >= 3, "a few refused attempts");
    expect(sink.events).toEqual([]);
    expect(pipeline.isError()).toBe(false);
    await proxy.open();
    await until(() => sink.events.length === 1, "the line once the server is reachable");
    expect(sink.events).toEqual(["after"]);
    expect(pipeline.metrics.warning).toBe(source.stats.failures);
  });

  it("reconnects when the connection breaks in the middle of a file; the file is read again and posted once delivered", async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `n${i}`);
    const dir = await folder("cut", { "c.txt": `${lines.join("\n")}\n` });
    const { proxy, url: viaProxy } = await TcpProxy.to(url, 21);
    proxies.push(proxy);
    await proxy.open();
    const { trigger, sink, source } = await run<string, SlowSink<string>>(
      { remote_path: dir, encoding: "utf-8", post: "delete" },
      { connection: { url: viaProxy }, sink: (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 100 }) },
    );
    trigger.fire();
    await until(() => sink.held.length >= 100, "the first lines");
    proxy.cut();
    const releaser = setInterval(() => sink.release(), 2);
    try {
      await until(() => source.stats.processed === 1, "the file read again and deleted");
    } finally {
      clearInterval(releaser);
    }
    expect(source.stats.failures).toBeGreaterThanOrEqual(1);
    expect(await ftp.names(dir)).toEqual([]);
    // At least once: every line arrived, the ones before the cut twice, in order after the restart.
    expect(new Set(sink.released)).toEqual(new Set(lines));
    expect(sink.released.slice(-lines.length)).toEqual(lines);
  });

  it("posts a file on a new connection when the server dropped the idle one while its events were delivered", async () => {
    const dir = await folder("idle", { "i.txt": "1\n2\n" });
    const { proxy, url: viaProxy } = await TcpProxy.to(url, 21);
    proxies.push(proxy);
    await proxy.open();
    const { trigger, sink, source } = await run<string, SlowSink<string>>(
      { remote_path: dir, encoding: "utf-8", post: "delete" },
      { connection: { url: viaProxy }, sink: (app, p) => new SlowSink<string>(app, p) },
    );
    trigger.fire();
    await until(() => sink.held.length === 2, "the lines in the sink");
    // the lines reach the sink before the server's "transfer complete": cut only once the file was read whole
    await until(() => source.waiting === 1, "the file read to its end");
    proxy.cut();
    sink.release();
    await until(() => source.stats.processed === 1, "the file deleted");
    expect(await ftp.names(dir)).toEqual([]);
    expect(source.stats).toMatchObject({ failures: 0, returned: 0, files: 1 });
    expect(sink.released).toEqual(["1", "2"]);
  });

  it("fails the pipeline at once when the login is refused (not worth retrying)", async () => {
    const dir = await folder("login");
    const bad = new URL(url);
    bad.password = "wrong-password";
    const { trigger, pipeline, source } = await run<Buffer>({ remote_path: dir, max_failed_retries: 5 }, { connection: { url: bad.href } });
    trigger.fire();
    await until(() => pipeline.isError(), "the hard error");
    const error = pipeline.error?.error as FTPConnectionError;
    expect(error).toBeInstanceOf(FTPConnectionError);
    expect(error.retriable).toBe(false);
    expect(error.reply).toBe(530);
    expect(error.message).not.toContain("wrong-password");
    expect(source.stats.failures).toBe(1);
  });

  it("runs from a .conf file: [connection:FTPConnection] and the source's section", async () => {
    const dir = await folder("conf", { "c1.txt": "from conf\n" });
    const u = new URL(url);
    const app = createApp(
      [
        "[connection:FTPConnection]",
        `hostname=${u.hostname}`,
        `port=${u.port}`,
        `username=${decodeURIComponent(u.username)}`,
        `password=${decodeURIComponent(u.password)}`,
        "[pipeline:FTPPipeline:FTPSource]",
        `remote_path=${dir}`,
        "glob=*.txt",
        "encoding=utf-8",
        "mode=p",
      ].join("\n"),
    );
    app.pumpService.addConnection(new FTPConnection(app));
    const pipeline = new Pipeline(app, "FTPPipeline");
    const trigger = new Trigger(app);
    const sink = new UnitTestSink<Buffer | string>(app, pipeline);
    pipeline.build(new FTPSource(app, pipeline, "FTPConnection").on(trigger), sink);
    pipelines.push(pipeline);
    await pipeline.start();
    await cycle(trigger, pipeline);
    expect(sink.events).toEqual(["from conf"]);
    expect(await ftp.names(dir)).toEqual([]);
  });
});

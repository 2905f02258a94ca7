import { PassThrough, Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DELIVERY, Delivery, Pipeline } from "../../src/index.js";
import {
  NullSink,
  PPrintContextProcessor,
  PPrintProcessor,
  PPrintSink,
  PrintContextProcessor,
  PrintProcessor,
  PrintSink,
} from "../../src/common/index.js";
import { UnitTestSink, ListSource, createApp, settleLog, until } from "../helpers.js";
import { harness } from "./harness.js";

/** A stream that keeps what is written to it. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => chunks.push(chunk));
  return { stream, text: () => chunks.join("") };
}

/** Lets the event loop turn a few times. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

const PPRINT_VECTOR = { list: ["a", "b"], dict: { a: "b" } };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("NullSink", () => {
  it("takes events and lets nothing out (BSPump's vector); they count as out and are confirmed", async () => {
    const h = await harness((app, p) => [new NullSink(app, p)]);
    const log = settleLog();
    await h.send(["Don't let this out!"], [log.track(1)]);
    expect(h.output).toEqual([]);
    expect(h.pipeline.metrics.out).toBe(1);
    expect(log.settled).toEqual([{ token: 1, error: undefined }]);
  });
});

describe("print sinks and processors (BSPump's vectors)", () => {
  it("PrintSink prints each event on a line, and lets nothing out", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PrintSink(app, p, { stream: out.stream })]);
    await h.send(["Please, print this to me"]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("Please, print this to me\n");
    expect(h.output).toEqual([]);
  });

  it("PPrintSink pretty-prints the event", async () => {
    const out = capture();
    await (await harness((app, p) => [new PPrintSink(app, p, { stream: out.stream })])).send([PPRINT_VECTOR]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("{ list: [ 'a', 'b' ], dict: { a: 'b' } }\n");
  });

  it("PrintProcessor prints the event and passes it on", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PrintProcessor(app, p, { stream: out.stream })]);
    await h.send(["Please, print this to me"]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("Please, print this to me\n");
    expect(h.output).toEqual(["Please, print this to me"]);
  });

  it("PPrintProcessor pretty-prints the event and passes it on", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PPrintProcessor(app, p, { stream: out.stream })]);
    await h.send([PPRINT_VECTOR]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("{ list: [ 'a', 'b' ], dict: { a: 'b' } }\n");
    expect(h.output).toEqual([PPRINT_VECTOR]);
  });

  it("PrintContextProcessor prints the context; the null event is then dropped", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PrintContextProcessor(app, p, { stream: out.stream })]);
    await h.send([null], [{ context: "dict" }]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("{ context: 'dict' }\n");
    expect(h.output).toEqual([]);
    expect(h.pipeline.metrics.drop).toBe(1);
  });

  it("PPrintContextProcessor pretty-prints the context, without the delivery, and passes the event on", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PPrintContextProcessor(app, p, { stream: out.stream })]);
    const context = { context: "dict", [DELIVERY]: new Delivery(() => {}, 1) };
    await h.send(["event"], [context]);
    await until(() => out.text() !== "");
    expect(out.text()).toBe("{ context: 'dict' }\n");
    expect(h.output).toEqual(["event"]);
    expect(h.sink.contexts[0]![DELIVERY]).toBe(context[DELIVERY]);
  });
});

describe("print formatting", () => {
  it("Print writes one line per event, complete however deep or long", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PrintSink(app, p, { stream: out.stream })]);
    const deep = { a: { b: { c: { d: { e: [1, 2] } } } }, long: Array.from({ length: 150 }, (_, i) => i) };
    await h.send([deep, 42, null, Buffer.from("hi"), "two\nlines"]);
    await until(() => out.text().endsWith("lines\n"));
    const lines = out.text().split("\n");
    expect(lines[0]).toMatch(/^\{ a: \{ b: \{ c: \{ d: \{ e: \[ 1, 2 \] \} \} \} \}, long: \[ 0, 1, 2, .* 149 \] \}$/);
    expect(lines[0]).not.toMatch(/more items|\[Object\]/);
    expect(lines.slice(1)).toEqual(["42", "null", "<Buffer 68 69>", "two", "lines", ""]);
  });

  it("PPrint lays a large event out over lines of at most 80 characters, with no colours on a plain stream", async () => {
    const out = capture();
    const h = await harness((app, p) => [new PPrintSink(app, p, { stream: out.stream })]);
    const event = { id: "0123456789", names: ["alpha", "beta", "gamma", "delta"], nested: { level1: { level2: { level3: { level4: "deep" } } } }, text: "x".repeat(40) };
    await h.send([event]);
    await until(() => out.text() !== "");
    const lines = out.text().trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(out.text()).toContain("level4: 'deep'");
    expect(out.text()).not.toContain("\u001b[");
  });

  it("PPrint uses colours on a terminal that has them", async () => {
    const out = capture();
    Object.assign(out.stream, { isTTY: true, hasColors: () => true });
    const h = await harness((app, p) => [new PPrintSink(app, p, { stream: out.stream })]);
    await h.send([{ n: 1 }]);
    await until(() => out.text() !== "");
    expect(out.text()).toContain("\u001b[33m1\u001b[39m");
  });

  it("writes to process.stdout when no stream is given", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(((_chunk: unknown, callback?: unknown) => {
      if (typeof callback === "function") (callback as () => void)();
      return true;
    }) as typeof process.stdout.write);
    const h = await harness((app, p) => [new PrintProcessor(app, p)]);
    await h.send(["to stdout"]);
    expect(write).toHaveBeenCalledWith("to stdout\n", expect.any(Function));
  });
});

describe("print backpressure", () => {
  it("a stream nobody reads throttles the pipeline instead of buffering without end; reading releases it, nothing is lost", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const stream = new PassThrough({ highWaterMark: 64 });
    const source = new ListSource<string>(app, p);
    source.events = Array.from({ length: 200 }, (_, i) => `line-${String(i).padStart(3, "0")}`);
    source.batchSize = 1;
    const log = settleLog();
    source.contexts = (i) => log.track(i);
    const sink = new PrintSink(app, p, { stream });
    p.build(source, sink);
    await p.start();
    await until(() => p.getThrottles().has(sink), "the sink to throttle");
    expect(p.isReady()).toBe(false);
    const heldAt = p.metrics.in;
    await turns(50);
    // held: no more events taken, and the stream's buffer stays bounded
    expect(p.metrics.in).toBe(heldAt);
    expect(heldAt).toBeLessThan(40);
    expect(stream.writableLength).toBeLessThanOrEqual(64 + 8);
    expect(log.settled.length).toBeLessThan(heldAt); // lines still in the stream are not confirmed
    // a reader comes: everything arrives, in order
    const chunks: string[] = [];
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => chunks.push(chunk));
    await until(() => chunks.join("").split("\n").length === 201, "every line");
    expect(chunks.join("")).toBe(source.events.map((e) => `${e}\n`).join(""));
    await until(() => log.settled.length === 200, "every delivery");
    expect(log.settled.every((s) => s.error === undefined)).toBe(true);
    expect(p.getThrottles().has(sink)).toBe(false);
    await p.stop();
  });

  it("a PrintProcessor throttles too, and releases on 'drain'", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const stream = new PassThrough({ highWaterMark: 16 });
    const printer = new PrintProcessor<string>(app, p, { stream });
    const sink = new UnitTestSink<string>(app, p);
    const source = new ListSource<string>(app, p);
    source.events = Array.from({ length: 50 }, (_, i) => `event ${i}`);
    source.batchSize = 1;
    p.build(source, printer, sink);
    await p.start();
    await until(() => printer.output.throttled, "the throttle");
    const held = sink.events.length;
    await turns(30);
    expect(sink.events.length).toBe(held);
    stream.resume();
    await until(() => sink.events.length === 50, "the rest");
    expect(printer.output.throttled).toBe(false);
    expect(p.isReady()).toBe(true);
    await p.stop();
  });

  it("stop() waits until the stream took everything written", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const stream = new PassThrough({ highWaterMark: 8 });
    const sink = new PrintSink(app, p, { stream });
    p.build(new ListSource(app, p), sink);
    await p.start();
    const log = settleLog();
    await p.processBatch(["first line", "second line"], [log.track(1), log.track(2)]);
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await turns(20);
    expect(stopped).toBe(false);
    expect(sink.output.pending).toBeGreaterThan(0);
    stream.resume();
    await stopping;
    expect(sink.output.pending).toBe(0);
    expect(log.settled.map((s) => s.token)).toEqual([1, 2]);
  });

  it("writing to a destroyed stream is a hard error naming the component; the event's delivery fails", async () => {
    const stream = new PassThrough();
    const h = await harness((app, p) => [new PrintSink(app, p, { stream })]);
    stream.destroy();
    const log = settleLog();
    void h.send(["lost?"], [log.track(7)]);
    await until(() => h.pipeline.isError());
    expect((h.pipeline.error!.error as Error).message).toBe("The output stream of 'P.PrintSink' is destroyed");
    expect(log.settled).toEqual([{ token: 7, error: h.pipeline.error?.error }]);
  });

  it("a stream error is a pipeline error, and the write's delivery fails", async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("EPIPE: the reader went away"));
      },
    });
    const h = await harness((app, p) => [new PrintSink(app, p, { stream: broken })]);
    const log = settleLog();
    await h.send(["x"], [log.track(1)]);
    await until(() => h.pipeline.isError() && log.settled.length === 1);
    expect((h.pipeline.error!.error as Error).message).toBe("EPIPE: the reader went away");
    expect(h.pipeline.error?.componentId).toBe("PrintSink");
    expect((log.settled[0]!.error as Error).message).toBe("EPIPE: the reader went away");
  });
});

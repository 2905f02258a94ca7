import { createServer } from "node:http";
import { once } from "node:events";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { logging, Pipeline, Processor, WebServer, type Context, type LogRecord, type PumpApplication, type Sink } from "@pump/core";
import { HTTPBodyError, WebServiceSource, type WebServiceContext } from "../src/index.js";
import { UnitTestSink, SlowSink, createApp, until } from "./helpers.js";

const pipelines: Pipeline[] = [];
afterEach(async () => {
  for (const pipeline of pipelines.splice(0)) await pipeline.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}, method = "POST"): Promise<Answer> {
  const response = await fetch(url, { method, body, headers });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

/** WebServiceSource on its own listener → sink; resolves once it listens. */
async function run<T, S extends Sink<T> = UnitTestSink<T>>(config: Record<string, string | number>, makeSink?: (app: PumpApplication, p: Pipeline) => S, soft = false) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  if (soft) pipeline.handleError = () => true;
  const source = new WebServiceSource<T>(app, pipeline, { config: { listen: "127.0.0.1:0", path: "/ingest", ...config } });
  const sink = (makeSink?.(app, pipeline) ?? new UnitTestSink<T>(app, pipeline)) as S;
  pipeline.build(source, sink as Sink);
  pipelines.push(pipeline);
  await pipeline.start();
  const address = await source.listening();
  return { app, pipeline, source, sink, url: `http://127.0.0.1:${address.port}/ingest`, address };
}

describe("WebServiceSource", () => {
  it("takes a JSON body on its own listener (127.0.0.1) and answers once the event is in, with the request in the context", async () => {
    const { url, sink, address, source } = await run<{ order: number }>({ format: "json" });
    expect(address.address).toBe("127.0.0.1");
    const answer = await post(`${url}?shop=7`, JSON.stringify({ order: 42 }), { "content-type": "application/json; charset=utf-8", "x-client": "test" });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ result: "OK", events: 1 });
    expect(sink.events).toEqual([{ order: 42 }]);
    const context = sink.contexts[0] as WebServiceContext;
    expect(context["webservicesource.method"]).toBe("POST");
    expect(context["webservicesource.path"]).toBe("/ingest");
    expect(context["webservicesource.query"]).toEqual({ shop: "7" });
    expect(context["webservicesource.headers"]["x-client"]).toBe("test");
    expect(context["webservicesource.content_type"]).toBe("application/json");
    expect(context["webservicesource.charset"]).toBe("utf-8");
    expect(context["webservicesource.remote"]).toMatch(/127\.0\.0\.1/);
    expect(source.stats).toMatchObject({ requests: 1, accepted: 1, events: 1 });
  });

  it("takes the body as bytes by default (BSPump), and NDJSON or lines as one event per line", async () => {
    const bytes = await run<Buffer>({});
    expect((await post(bytes.url, Buffer.from([1, 2, 3]))).status).toBe(200);
    expect(bytes.sink.events.map((b) => [...b])).toEqual([[1, 2, 3]]);

    const nd = await run<unknown>({ format: "ndjson" });
    const answer = await post(nd.url, '{"a":1}\n\n{"a":2}\r\n{"a":3}\n');
    expect(answer.body).toEqual({ result: "OK", events: 3 });
    expect(nd.sink.events).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);

    const lines = await run<string>({ format: "lines" });
    await post(lines.url, "one\r\ntwo\nthree");
    expect(lines.sink.events).toEqual(["one", "two", "three"]);
  });

  it("answers only after a buffering sink confirmed the events: backpressure reaches the client as a later answer", async () => {
    const { url, sink: slow } = await run<string, SlowSink<string>>({ format: "lines" }, (app, p) => new SlowSink<string>(app, p));
    let answered: Answer | undefined;
    const request = post(url, "a\nb\nc").then((a) => (answered = a));
    await until(() => slow.held.length === 3, "the events in the sink");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBeUndefined();
    slow.release(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBeUndefined();
    slow.release(1);
    await request;
    expect(answered).toMatchObject({ status: 200, body: { result: "OK", events: 3 } });
  });

  it("answers 500 when a sink gave up on the events", async () => {
    const { url, sink: slow } = await run<string, SlowSink<string>>({ format: "text" }, (app, p) => new SlowSink<string>(app, p));
    slow.failWith = new Error("the server refused it");
    const request = post(url, "doomed");
    await until(() => slow.held.length === 1, "the event in the sink");
    slow.release();
    const answer = await request;
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ result: "FAILED", error: "the server refused it" });
  });

  it("answers 504 when the events are not confirmed within delivery_timeout", async () => {
    const { url, sink, source } = await run<string, SlowSink<string>>({ format: "text", delivery_timeout: 0.05 }, (app, p) => new SlowSink<string>(app, p));
    const answer = await post(url, "stuck");
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ result: "TIMEOUT", events: 1 });
    expect(sink.held.length).toBe(1);
    expect(source.stats.failed).toBe(1);
  });

  it("refuses with 429 and Retry-After while the pipeline stays throttled past wait_timeout, and takes nothing", async () => {
    const { url, pipeline, sink, source } = await run<string>({ format: "text", wait_timeout: 0.5 });
    pipeline.throttle("test", true);
    const answer = await post(url, "too soon");
    expect(answer.status).toBe(429);
    expect(answer.headers.get("retry-after")).toBe("1");
    expect(answer.body).toMatchObject({ result: "BUSY" });
    expect(source.stats.refused).toBe(1);
    // A request that arrives while throttled but within the bound waits and is taken.
    const later = post(url, "patient");
    await until(() => source.stats.requests === 2, "the second request");
    pipeline.throttle("test", false);
    expect((await later).status).toBe(200);
    expect(sink.events).toEqual(["patient"]);
  });

  it("under many concurrent clients and a slow sink, answers late or 429 and never holds more than the sink's limit", async () => {
    const { url, sink: slow } = await run<string, SlowSink<string>>({ format: "text", wait_timeout: 0.2 }, (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 5 }));
    const answers = Promise.all(Array.from({ length: 40 }, (_, i) => post(url, `event ${i}`)));
    let done = false;
    void answers.then(() => (done = true));
    const releaser = setInterval(() => slow.release(1), 5);
    const results = await answers.finally(() => clearInterval(releaser));
    expect(done).toBe(true);
    const ok = results.filter((r) => r.status === 200).length;
    const busy = results.filter((r) => r.status === 429).length;
    expect(ok + busy).toBe(40);
    expect(ok).toBeGreaterThan(0);
    expect(slow.released.length).toBe(ok);
    expect(slow.peak).toBeLessThanOrEqual(5);
  });

  it("answers 503 while the pipeline is stopped by an error, also to requests queued behind a batch the error holds up", async () => {
    class Breaks extends Processor<string, string> {
      process(_context: Context, event: string): string {
        if (event === "breaks") throw new Error("broken");
        return event;
      }
    }
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new WebServiceSource<string>(app, pipeline, { config: { listen: "127.0.0.1:0", format: "lines", wait_timeout: 0.1 } });
    pipeline.build(source, new Breaks(app, pipeline), new UnitTestSink<string>(app, pipeline));
    pipelines.push(pipeline);
    await pipeline.start();
    const url = `http://127.0.0.1:${(await source.listening()).port}/`;
    // The batch stops at the failing event and waits for the error to be cleared, holding the hand-over.
    const held = post(url, "breaks\nafter");
    await until(() => pipeline.isError(), "the hard error");
    const answer = await post(url, "x");
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ result: "UNAVAILABLE" });
    await pipeline.stop();
    pipelines.length = 0;
    expect((await held).status).toBe(500);
  });

  it("answers 400 to malformed JSON, reports it (soft: counted as a warning) and goes on; all or nothing per request", async () => {
    const { url, pipeline, sink, source } = await run<unknown>({ format: "ndjson" }, undefined, true);
    const bad = await post(url, '{"a":1}\n{"a":\n{"a":3}\n');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ result: "MALFORMED" });
    expect(String(bad.body.error)).toMatch(/line 2 is not valid JSON/);
    expect(sink.events).toEqual([]);
    expect(pipeline.metrics.warning).toBe(1);
    expect(source.stats.malformed).toBe(1);
    const good = await post(url, '{"a":1}\n');
    expect(good.status).toBe(200);
    expect(sink.events).toEqual([{ a: 1 }]);
  });

  it("reports malformed input as a hard pipeline error under the default policy", async () => {
    const { url, pipeline } = await run<unknown>({ format: "json", wait_timeout: 0.05 });
    expect((await post(url, "{nope")).status).toBe(400);
    expect(pipeline.isError()).toBe(true);
    expect(pipeline.error?.error).toBeInstanceOf(HTTPBodyError);
    expect((await post(url, "{}")).status).toBe(503);
  });

  it("takes nothing from, and reports nothing about, a client that goes away in the middle of its body", async () => {
    const { address, pipeline, sink, source } = await run<string>({ format: "text" });
    const records: LogRecord[] = [];
    logging.setWriter((record) => records.push(record));
    const socket = connect(address.port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part");
    await until(() => source.stats.requests === 1, "the request");
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.events).toEqual([]);
    expect(pipeline.isError()).toBe(false);
    expect(source.stats.malformed).toBe(0);
    expect(records.filter((r) => r.level === "error" || r.level === "warn")).toEqual([]);
    const url = `http://127.0.0.1:${address.port}/ingest`;
    expect((await post(url, "next")).status).toBe(200);
  });

  it("answers 413 to a body over max_body_size, 400 to bad text, 405 to another method, 404 elsewhere", async () => {
    const { url, sink } = await run<string>({ format: "text", max_body_size: 10 }, undefined, true);
    expect((await post(url, "x".repeat(11))).status).toBe(413);
    expect((await post(url, Buffer.from([0xc3, 0x28]))).status).toBe(400);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await fetch(url.replace("/ingest", "/other"), { method: "POST", body: "x" })).status).toBe(404);
    expect((await post(url, "fine")).status).toBe(200);
    expect(sink.events).toEqual(["fine"]);
  });

  it("mounts on the application's web server at a path", async () => {
    const app = createApp("[web]\nlisten=127.0.0.1:0\n");
    const pipeline = new Pipeline(app, "Ingest");
    const source = new WebServiceSource<{ n: number }>(app, pipeline, { config: { format: "json" } });
    class Double extends Processor<{ n: number }, number> {
      process(_context: Context, event: { n: number }): number {
        return event.n * 2;
      }
    }
    const sink = new UnitTestSink<number>(app, pipeline);
    pipeline.build(source, new Double(app, pipeline), sink);
    source.mount(WebServer.of(app), "/ingest/orders", { auth: false });
    app.pumpService.addPipeline(pipeline);
    const running = app.run();
    await until(() => WebServer.of(app).url !== undefined && pipeline.isReady(), "the web server");
    const answer = await post(`${WebServer.of(app).url}/ingest/orders`, '{"n": 21}', { "content-type": "application/json" });
    expect(answer).toMatchObject({ status: 200, body: { result: "OK", events: 1 } });
    expect(sink.events).toEqual([42]);
    // The REST API of the same server sees the pipeline.
    const listed = (await (await fetch(`${WebServer.of(app).url}/bspump/v1/pipelines`)).json()) as Record<string, unknown>;
    expect(Object.keys(listed)).toContain("Ingest");
    app.stop();
    expect(await running).toBe(0);
  });

  it("serves from any Node server through `handler`, and refuses with 503 once stopped", async () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new WebServiceSource<Buffer>(app, pipeline);
    const sink = new UnitTestSink<Buffer>(app, pipeline);
    pipeline.build(source, sink);
    const server = createServer(source.handler);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/anything`;
    try {
      expect((await post(url, "early")).status).toBe(503);
      await pipeline.start();
      expect((await post(url, "on time")).status).toBe(200);
      await pipeline.stop();
      expect((await post(url, "late")).status).toBe(503);
      expect(sink.events.map(String)).toEqual(["on time"]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

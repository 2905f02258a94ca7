import { afterEach, describe, expect, it } from "vitest";
import { Pipeline } from "@pump/core";
import { HTTPClientSink, HTTPDeliveryError, HTTPEncodeError } from "../src/index.js";
import { createApp, freePort, json, startServer, TrackedSource, until, type TestServer } from "./helpers.js";

const servers: TestServer[] = [];
const pipelines: Pipeline[] = [];
afterEach(async () => {
  for (const pipeline of pipelines.splice(0)) await pipeline.stop();
  for (const server of servers.splice(0)) await server.close();
});

async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

/** TrackedSource(events) → HTTPClientSink(config), started. */
async function run(events: unknown[], config: Record<string, string | number>, options: { soft?: boolean; batchSize?: number } = {}) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  if (options.soft === true) pipeline.handleError = () => true;
  const source = new TrackedSource(app, pipeline);
  source.events = events;
  source.batchSize = options.batchSize ?? 1;
  const sink = new HTTPClientSink(app, pipeline, { config: { retry_backoff: 0.01, retry_backoff_max: 0.05, ...config } });
  pipeline.build(source, sink);
  pipelines.push(pipeline);
  await pipeline.start();
  return { app, pipeline, source, sink };
}

describe("HTTPClientSink", () => {
  it("posts each event with the content type of its kind and confirms it after the 2xx", async () => {
    const s = await serve((_r, res) => {
      res.statusCode = 201;
      res.end();
    });
    const { source, sink } = await run([{ id: 1, name: "tea" }, "plain text", Buffer.from([0, 1, 2, 255])], { url: `${s.url}/hook` }, {});
    await until(() => source.settled.length === 3, "three settlements");
    expect(source.settled).toEqual([
      { index: 0, error: undefined },
      { index: 1, error: undefined },
      { index: 2, error: undefined },
    ]);
    expect(s.requests.map((r) => [r.method, r.url, r.headers["content-type"]])).toEqual([
      ["POST", "/hook", "application/json"],
      ["POST", "/hook", "text/plain; charset=utf-8"],
      ["POST", "/hook", "application/octet-stream"],
    ]);
    expect(json(s.requests[0]!.body)).toEqual({ id: 1, name: "tea" });
    expect(s.requests[1]!.body.toString()).toBe("plain text");
    expect([...s.requests[2]!.body]).toEqual([0, 1, 2, 255]);
    expect(sink.stats).toMatchObject({ requests: 3, delivered: 3, retries: 0, failed: 0 });
  });

  it("batches events as NDJSON, and as a JSON array, with the configured method and headers", async () => {
    const s = await serve();
    const events = Array.from({ length: 7 }, (_, i) => ({ n: i }));
    const ndjson = await run(events, { url: `${s.url}/nd`, batch_size: 3, linger: 0.05, method: "PUT", headers: "Authorization: Bearer t0ken" }, { batchSize: 7 });
    await until(() => ndjson.source.settled.length === 7, "every event settled");
    const nd = s.requests.filter((r) => r.url === "/nd");
    expect(nd.map((r) => r.method)).toEqual(["PUT", "PUT", "PUT"]);
    expect(nd[0]!.headers["content-type"]).toBe("application/x-ndjson");
    expect(nd[0]!.headers.authorization).toBe("Bearer t0ken");
    expect(nd.map((r) => r.body.toString())).toEqual(['{"n":0}\n{"n":1}\n{"n":2}\n', '{"n":3}\n{"n":4}\n{"n":5}\n', '{"n":6}\n']);

    const array = await run(events, { url: `${s.url}/json`, batch_size: 4, batch_format: "json", linger: 0.05 }, { batchSize: 7 });
    await until(() => array.source.settled.length === 7, "every event settled");
    const arrays = s.requests.filter((r) => r.url === "/json");
    expect(arrays[0]!.headers["content-type"]).toBe("application/json");
    expect(arrays.map((r) => json(r.body))).toEqual([events.slice(0, 4), events.slice(4)]);
  });

  it("keeps a batch within batch_max_bytes", async () => {
    const s = await serve();
    const events = ["a".repeat(40), "b".repeat(40), "c".repeat(40)];
    const { source } = await run(events, { url: s.url, batch_size: 10, batch_max_bytes: 90, linger: 0.05 }, { batchSize: 3 });
    await until(() => source.settled.length === 3, "every event settled");
    expect(s.requests.map((r) => r.body.toString().split("\n").filter(Boolean).length)).toEqual([2, 1]);
  });

  it("recovers when the server refuses connections at first: nothing lost, order kept, confirmed only once taken", async () => {
    const port = await freePort();
    const events = Array.from({ length: 20 }, (_, i) => `event ${i}`);
    const { source, sink } = await run(events, { url: `http://127.0.0.1:${port}/in`, batch_size: 5, linger: 0.01 }, { batchSize: 20 });
    await until(() => sink.stats.retries >= 3, "a few refused attempts");
    expect(source.settled).toEqual([]);
    const s = await serve(undefined, port);
    await until(() => source.settled.length === 20, "every event settled");
    expect(source.settled.every((x) => x.error === undefined)).toBe(true);
    const received = s.requests.flatMap((r) => r.body.toString().split("\n").filter(Boolean));
    expect(received).toEqual(events);
  });

  it("retries a server answering 500 (and 429 with Retry-After) then 200: nothing lost", async () => {
    const s = await serve((_r, res, i) => {
      if (i === 0) res.statusCode = 500;
      else if (i === 1) {
        res.statusCode = 429;
        res.setHeader("Retry-After", "0");
      } else if (i === 2) res.statusCode = 503;
      res.end();
    });
    const { source, sink } = await run(["x", "y"], { url: s.url });
    await until(() => source.settled.length === 2, "both settled");
    expect(source.settled.map((x) => x.error)).toEqual([undefined, undefined]);
    expect(s.requests.map((r) => r.body.toString())).toEqual(["x", "x", "x", "x", "y"]);
    expect(sink.stats).toMatchObject({ requests: 5, retries: 3, delivered: 2, failed: 0 });
  });

  it("gives up on a permanent error: a hard pipeline error, the deliveries fail", async () => {
    const s = await serve((_r, res) => {
      res.statusCode = 400;
      res.end("bad request: field 'x' missing");
    });
    const { source, pipeline, sink } = await run(["a"], { url: s.url });
    await until(() => source.settled.length === 1, "the settlement");
    expect(source.settled[0]!.error).toBeInstanceOf(HTTPDeliveryError);
    expect((source.settled[0]!.error as Error).message).toMatch(/400.*field 'x' missing/);
    expect(pipeline.isError()).toBe(true);
    expect(s.requests.length).toBe(1);
    expect(sink.stats.failed).toBe(1);
  });

  it("under a soft error policy, counts the events it gave up on and goes on", async () => {
    const s = await serve((r, res) => {
      res.statusCode = r.body.toString() === "bad" ? 422 : 200;
      res.end();
    });
    const { source, pipeline } = await run(["ok1", "bad", "ok2"], { url: s.url }, { soft: true });
    await until(() => source.settled.length === 3, "every settlement");
    expect(source.settled.map((x) => x.error)).toEqual([undefined, undefined, undefined]);
    expect(pipeline.isError()).toBe(false);
    expect(pipeline.metrics.warning).toBe(1);
    expect(s.requests.map((r) => r.body.toString())).toEqual(["ok1", "bad", "ok2"]);
  });

  it("reports an event it cannot encode (malformed input) through the pipeline's error handling", async () => {
    const s = await serve();
    const { source, pipeline } = await run([{ ok: 1 }, { big: 10n }, { ok: 2 }], { url: s.url }, { soft: true });
    await until(() => source.settled.length === 3, "every settlement");
    expect(pipeline.metrics.warning).toBe(1);
    expect(s.requests.map((r) => json(r.body))).toEqual([{ ok: 1 }, { ok: 2 }]);
    const strict = await run([{ big: 10n }], { url: s.url });
    await until(() => strict.pipeline.isError(), "the hard error");
    expect(strict.pipeline.error?.error).toBeInstanceOf(HTTPEncodeError);
  });

  it("gives up retrying after delivery_timeout", async () => {
    const port = await freePort();
    const { source, pipeline } = await run(["lost"], { url: `http://127.0.0.1:${port}`, delivery_timeout: 0.2 });
    await until(() => source.settled.length === 1, "the settlement");
    expect(source.settled[0]!.error).toBeInstanceOf(HTTPDeliveryError);
    expect((source.settled[0]!.error as Error).message).toMatch(/ECONNREFUSED/);
    expect(pipeline.isError()).toBe(true);
  });

  it("throttles the pipeline while a slow server holds its buffer full: the source waits, memory stays flat", async () => {
    const waiting: (() => void)[] = [];
    const s = await serve((_r, res) => {
      waiting.push(() => res.end());
    });
    const events = Array.from({ length: 300 }, (_, i) => ({ i }));
    const { source, sink, pipeline } = await run(events, { url: s.url, batch_size: 10, linger: 0, buffer_max_events: 30 }, { batchSize: 1 });
    let peak = 0;
    let sawThrottled = false;
    while (source.settled.length < events.length) {
      await until(() => waiting.length > 0 || source.settled.length === events.length, "a request or the end");
      peak = Math.max(peak, sink.buffered);
      if (!pipeline.isReady()) sawThrottled = true;
      waiting.shift()?.();
    }
    expect(sawThrottled).toBe(true);
    expect(sink.stats.throttled).toBeGreaterThan(0);
    // Never more than the watermark (and the batch the source was handing over) held at once.
    expect(peak).toBeLessThanOrEqual(31);
    expect(s.requests.flatMap((r) => r.body.toString().split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { i: number }).i))).toEqual(events.map((e) => e.i));
    expect(pipeline.isReady()).toBe(true);
  });

  it("refuses a method that cannot carry a body, and bad numbers, with a ConfigError naming the key", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    expect(() => new HTTPClientSink(app, pipeline, { config: { method: "GET" } })).toThrow(/method/);
    expect(() => new HTTPClientSink(app, pipeline, { config: { batch_size: 0 } })).toThrow(/batch_size/);
    expect(() => new HTTPClientSink(app, pipeline, { config: { batch_format: "xml" } })).toThrow(/batch_format/);
    expect(() => new HTTPClientSink(app, pipeline, { config: { url: "::" } })).toThrow(/url/);
  });

  it("sends what is left when the pipeline stops", async () => {
    const s = await serve();
    const { source, pipeline } = await run(["one", "two", "three"], { url: s.url, batch_size: 100, linger: 3600 }, { batchSize: 3 });
    await until(() => s.requests.length === 0 && pipeline.isReady(), "the pipeline running");
    await until(() => source.settled.length === 0, "nothing sent before stop");
    await pipeline.stop();
    pipelines.length = 0;
    expect(s.requests.map((r) => r.body.toString())).toEqual(["one\ntwo\nthree\n"]);
    expect(source.settled.length).toBe(3);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, Pipeline, RunOnceTrigger, StdJsonToDictParser, Trigger, type Context, type PumpApplication, type Sink, type Source } from "@pump/core";
import { HTTPABCClientSource, HTTPClientLineSource, HTTPClientSource, HTTPClientTextSource, HTTPConnectionError, HTTPStatusError, type HTTPClientContext } from "../src/index.js";
import { UnitTestSink, SlowSink, createApp, freePort, json, startServer, until, type TestServer } from "./helpers.js";

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

/** A started pipeline: source → sink, fired by hand. */
async function run<T, S extends Sink<T> = UnitTestSink<T>>(
  make: (app: PumpApplication, pipeline: Pipeline) => HTTPABCClientSource<T>,
  makeSink?: (app: PumpApplication, pipeline: Pipeline) => S,
  conf = "",
) {
  const app = createApp(conf);
  const pipeline = new Pipeline(app, "P");
  const trigger = new Trigger(app);
  const source = make(app, pipeline).on(trigger);
  const sink = (makeSink?.(app, pipeline) ?? new UnitTestSink<T>(app, pipeline)) as S;
  pipeline.build(source as Source, sink as Sink);
  pipelines.push(pipeline);
  await pipeline.start();
  return { app, pipeline, trigger, source, sink };
}

describe("HTTPClientSource", () => {
  it("emits the response body as bytes, one event per cycle (the Coindesk tutorial)", async () => {
    const price = { bpi: { USD: { code: "USD", rate_float: 37789.625 } }, chartName: "Bitcoin" };
    const s = await serve((_r, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(price));
    });
    const { trigger, sink } = await run<Buffer>((app, p) => new HTTPClientSource(app, p, { config: { url: `${s.url}/v1/bpi/currentprice.json` } }));
    trigger.fire();
    await until(() => sink.events.length === 1, "the first event");
    trigger.fire();
    await until(() => sink.events.length === 2, "the second event");
    expect(Buffer.isBuffer(sink.events[0])).toBe(true);
    expect(json(sink.events[0]!)).toEqual(price);
    expect(s.requests.map((r) => [r.method, r.url])).toEqual([
      ["GET", "/v1/bpi/currentprice.json"],
      ["GET", "/v1/bpi/currentprice.json"],
    ]);
    const context = sink.contexts[0] as HTTPClientContext;
    expect(context.http_status).toBe(200);
    expect(context.http_headers["content-type"]).toBe("application/json");
  });

  it("runs the tutorial pipeline to its end: HTTPClientSource → StdJsonToDictParser → sink, RunOnceTrigger", async () => {
    const s = await serve((_r, res) => void res.end('{"chartName":"Bitcoin","bpi":{"USD":{"rate_float":1.5}}}'));
    const app = createApp();
    const pipeline = new Pipeline(app, "SamplePipeline");
    const sink = new UnitTestSink<{ bpi: { USD: { rate_float: number } } }>(app, pipeline);
    pipeline.build(new HTTPClientSource(app, pipeline, { config: { url: s.url } }).on(new RunOnceTrigger(app)), new StdJsonToDictParser<{ bpi: { USD: { rate_float: number } } }>(app, pipeline), sink);
    app.pumpService.addPipeline(pipeline);
    expect(await app.run()).toBe(0);
    expect(sink.events.map((e) => e.bpi.USD.rate_float)).toEqual([1.5]);
  });

  it("sends the headers it is given (the Fortnite tutorial's API key) and the ones of the config", async () => {
    const s = await serve();
    const { trigger, sink } = await run(
      (app, p) => new HTTPClientSource(app, p, { config: { url: `${s.url}/v1/store` }, headers: { "TRN-Api-Key": "secret-key" } }),
      undefined,
      "[pipeline:P:HTTPClientSource]\nheaders=\n  Accept: application/json\n  X-Trace: 42\n",
    );
    trigger.fire();
    await until(() => sink.events.length === 1, "the event");
    expect(s.requests[0]!.headers["trn-api-key"]).toBe("secret-key");
    expect(s.requests[0]!.headers.accept).toBe("application/json");
    expect(s.requests[0]!.headers["x-trace"]).toBe("42");
  });

  it("POSTs a JSON body (the Tarkov GraphQL query)", async () => {
    const s = await serve((r, res) => {
      const { query } = json(r.body) as { query: string };
      res.end(JSON.stringify({ data: { crafts: [{ source: query.includes("crafts") ? "Workbench level 3" : "?" }] } }));
    });
    const query = "query { crafts { source duration } }";
    const { trigger, sink } = await run((app, p) => new HTTPClientSource(app, p, { config: { url: `${s.url}/graphql`, method: "POST" }, body: { query } }));
    trigger.fire();
    await until(() => sink.events.length === 1, "the event");
    expect(s.requests[0]!.method).toBe("POST");
    expect(s.requests[0]!.headers["content-type"]).toBe("application/json");
    expect(json(s.requests[0]!.body)).toEqual({ query });
    expect(json(sink.events[0] as Buffer)).toEqual({ data: { crafts: [{ source: "Workbench level 3" }] } });
  });

  it("takes the body from the config, with its content type", async () => {
    const s = await serve();
    const { trigger, sink } = await run(
      (app, p) => new HTTPClientSource(app, p),
      undefined,
      `[pipeline:P:HTTPClientSource]\nurl=${s.url}/q\nmethod=post\nbody={"a": 1}\ncontent_type=application/json\n`,
    );
    trigger.fire();
    await until(() => sink.events.length === 1, "the event");
    expect(s.requests[0]!.method).toBe("POST");
    expect(s.requests[0]!.headers["content-type"]).toBe("application/json");
    expect(s.requests[0]!.body.toString()).toBe('{"a": 1}');
  });

  it("refuses a bad url, response_code or header line with a ConfigError naming the key", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    expect(() => new HTTPClientSource(app, pipeline, { config: { url: "not a url" } })).toThrow(ConfigError);
    expect(() => new HTTPClientSource(app, pipeline, { config: { response_code: "ok" } })).toThrow(/response_code/);
    expect(() => new HTTPClientSource(app, pipeline, { config: { headers: "no colon here" } })).toThrow(/headers/);
    expect(() => new HTTPClientSource(app, pipeline, { config: { max_failed_retries: 0 } })).toThrow(/max_failed_retries/);
    expect(() => new HTTPClientSource(app, pipeline, { config: { body: "x" } })).toThrow(/GET request cannot have a body/);
  });

  it("recovers when the server, refusing connections at first, comes up (retries with fail_chilldown, counts warnings)", async () => {
    const port = await freePort();
    const { trigger, sink, source, pipeline } = await run((app, p) => new HTTPClientSource(app, p, { config: { url: `http://127.0.0.1:${port}/data`, fail_chilldown: 0.02, max_failed_retries: 1000 } }));
    trigger.fire();
    await until(() => source.stats.failures >= 3, "a few refused attempts");
    expect(sink.events).toEqual([]);
    expect(pipeline.isError()).toBe(false);
    await serve((_r, res) => void res.end("finally"), port);
    await until(() => sink.events.length === 1, "the event once the server is up");
    expect(sink.events[0]!.toString()).toBe("finally");
    expect(pipeline.metrics.warning).toBe(source.stats.failures);
    expect(source.failedResponses).toBe(0);
  });

  it("retries a server answering 500 until it answers 200: one event, nothing lost", async () => {
    const s = await serve((_r, res, i) => {
      if (i < 2) {
        res.statusCode = 500;
        res.end("busy");
      } else res.end("payload");
    });
    const { trigger, sink, source } = await run((app, p) => new HTTPClientSource(app, p, { config: { url: s.url, fail_chilldown: 0.01 } }));
    trigger.fire();
    await until(() => sink.events.length === 1, "the event");
    expect(sink.events.map(String)).toEqual(["payload"]);
    expect(s.requests.length).toBe(3);
    expect(source.stats).toMatchObject({ requests: 3, responses: 1, failures: 2 });
  });

  it("takes several response codes and fails the pipeline (hard error) after max_failed_retries", async () => {
    const s = await serve((_r, res, i) => {
      res.statusCode = i === 0 ? 204 : 404;
      res.end();
    });
    const { trigger, sink, source, pipeline } = await run<Buffer>((app, p) =>
      new HTTPClientSource(app, p, { config: { url: s.url, response_code: "200, 204", max_failed_retries: 3, fail_chilldown: 0 } }),
    );
    trigger.fire();
    await until(() => sink.events.length === 1, "the 204 answer");
    expect(sink.events[0]!.length).toBe(0);
    trigger.fire();
    await until(() => pipeline.isError(), "the pipeline error");
    expect(s.requests.length).toBe(4);
    expect(source.stats.failures).toBe(3);
    const error = pipeline.error?.error;
    expect(error).toBeInstanceOf(HTTPStatusError);
    expect((error as HTTPStatusError).status).toBe(404);
    expect((error as HTTPStatusError).retriable).toBe(false);
  });

  it("times out a server that does not answer", async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const { trigger, pipeline } = await run((app, p) => new HTTPClientSource(app, p, { config: { url: s.url, timeout: 0.05, max_failed_retries: 1 } }));
    trigger.fire();
    await until(() => pipeline.isError(), "the pipeline error");
    const error = pipeline.error?.error as HTTPConnectionError;
    expect(error).toBeInstanceOf(HTTPConnectionError);
    expect(error.errno).toBe("ETIMEDOUT");
  });

  it("stops in the middle of a retry wait", async () => {
    const port = await freePort();
    const { trigger, source, pipeline } = await run((app, p) => new HTTPClientSource(app, p, { config: { url: `http://127.0.0.1:${port}`, fail_chilldown: 3600 } }));
    trigger.fire();
    await until(() => source.stats.failures === 1, "the first failure");
    await pipeline.stop();
    pipelines.length = 0;
    expect(source.running).toBe(false);
    expect(pipeline.isError()).toBe(false);
  });
});

describe("HTTPClientTextSource and HTTPClientLineSource", () => {
  it("decodes the body by its charset", async () => {
    const s = await serve((_r, res) => {
      res.setHeader("content-type", "text/plain; charset=iso-8859-2");
      res.end(Buffer.from([0x50, 0xf8, 0xed, 0x6c, 0x69, 0xb9])); // "Příliš" in ISO-8859-2
    });
    const { trigger, sink } = await run<string>((app, p) => new HTTPClientTextSource(app, p, { config: { url: s.url } }));
    trigger.fire();
    await until(() => sink.events.length === 1, "the event");
    expect(sink.events).toEqual(["Příliš"]);
  });

  it("reports a body that is not valid text (soft error: counted, the pipeline goes on)", async () => {
    const s = await serve((_r, res, i) => void res.end(i === 0 ? Buffer.from([0x61, 0xff, 0xfe]) : Buffer.from("fine")));
    const { trigger, sink, pipeline } = await run<string>((app, p) => {
      p.handleError = () => true;
      return new HTTPClientTextSource(app, p, { config: { url: s.url } });
    });
    trigger.fire();
    await until(() => pipeline.metrics.warning === 1, "the warning");
    trigger.fire();
    await until(() => sink.events.length === 1, "the next event");
    expect(sink.events).toEqual(["fine"]);
    expect(pipeline.isError()).toBe(false);
  });

  it("emits one event per line, streaming a large body through a slow sink in order", async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
    const s = await serve((_r, res) => {
      res.setHeader("content-type", "text/plain");
      res.end(`${lines.join("\r\n")}\r\n`);
    });
    const { trigger, sink: slow } = await run<string, SlowSink<string>>(
      (app, p) => new HTTPClientLineSource(app, p, { config: { url: s.url } }),
      (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 500 }),
    );
    trigger.fire();
    const releaser = setInterval(() => slow.release(), 1);
    try {
      await until(() => slow.released.length === lines.length, "every line");
    } finally {
      clearInterval(releaser);
    }
    expect(slow.released).toEqual(lines);
    // The source waited while the sink was full: the sink never held more than its limit and one
    // batch (1000 lines), not the 2.5 MB body.
    expect(slow.peak).toBeLessThan(500 + 1000);
  });

  it("keeps a last line without a newline and splits lines across pieces", async () => {
    const s = await serve((_r, res) => {
      res.write("alpha\nbe");
      setTimeout(() => res.end("ta\ngamma"), 10);
    });
    const { trigger, sink } = await run<string>((app, p) => new HTTPClientLineSource(app, p, { config: { url: s.url } }));
    trigger.fire();
    await until(() => sink.events.length === 3, "three lines");
    expect(sink.events).toEqual(["alpha", "beta", "gamma"]);
    expect((sink.contexts as Context[]).every((c) => c.http_status === 200)).toBe(true);
  });
});

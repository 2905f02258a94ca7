import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CronTrigger, Pipeline, PumpApplication } from "../../src/index.js";
import { until } from "../helpers.js";
import {
  EnrichmentProcessor,
  MyServiceConnection,
  MySource,
  ScheduledSource,
  SplitGenerator,
  WebhookSink,
} from "./custom-components.js";

/** The outside world of the guide, on loopback: an events API, a lookup API, a webhook and the custom service. */
let server: Server;
let base: string;
const received: Record<string, unknown>[] = [];
const authorizations: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/events") {
      res.end(JSON.stringify([{ items: [{ key: "a" }, { key: "b" }] }, { items: [{ key: "a" }] }]));
    } else if (url.pathname === "/lookup") {
      res.end(JSON.stringify({ name: `name-of-${url.searchParams.get("key")}` }));
    } else if (url.pathname === "/webhook") {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.end("{}");
      });
    } else if (url.pathname === "/hello") {
      authorizations.push(req.headers.authorization);
      res.statusCode = req.headers.authorization === "Bearer s3cret" ? 200 : 401;
      res.end("{}");
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

class MyPipeline extends Pipeline {
  constructor(app: PumpApplication, id: string) {
    super(app, id);
    this.build(
      [new MySource(app, this), new ScheduledSource(app, this).on(new CronTrigger(app, "* * * * * *"))],
      new SplitGenerator(app, this),
      new EnrichmentProcessor(app, this),
      new WebhookSink(app, this),
    );
  }
}

describe("the Custom Components guide, translated", () => {
  it("runs: sources → generator → async enrichment with a cache → webhook sink, configured from a .conf file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pump-guide-"));
    const conf = join(dir, "guide.conf");
    writeFileSync(
      conf,
      [
        "[pipeline:MyPipeline:MySource]",
        `url=${base}/events`,
        "poll_interval=3600",
        "",
        "[pipeline:MyPipeline:EnrichmentProcessor]",
        `lookup_url=${base}/lookup`,
        "",
        "[pipeline:MyPipeline:WebhookSink]",
        `url=${base}/webhook`,
        "",
        "[connection:MyServiceConnection]",
        "host=127.0.0.1",
        `port=${new URL(base).port}`,
        "auth_token=${SERVICE_TOKEN}",
        "",
      ].join("\n"),
    );
    process.env.SERVICE_TOKEN = "s3cret";
    const app = new PumpApplication({ args: ["-c", conf] });
    const svc = app.pumpService;
    const connection = svc.addConnection(new MyServiceConnection(app, "MyServiceConnection"));
    const pipeline = new MyPipeline(app, "MyPipeline");
    svc.addPipeline(pipeline);
    const running = app.run();

    await until(() => received.length >= 3, "the polled events at the webhook");
    expect(received.slice(0, 3).map((e) => e.key).toSorted()).toEqual(["a", "a", "b"]);
    expect(received[0]!.enrichment).toEqual({ name: `name-of-${received[0]!.key}` });
    // the cron source fires every second and its items go the same way
    await until(() => received.filter((e) => e.key === "scheduled").length >= 2, "two scheduled events");
    const enrichment = pipeline.locateProcessor("EnrichmentProcessor") as EnrichmentProcessor;
    expect([...enrichment.cache.keys()].toSorted()).toEqual(["a", "b", "scheduled"]);
    // events injected by a generator are enriched concurrently, so the two "a"s may both miss the
    // cache; the repeated "scheduled" events are served from it
    expect(enrichment.fetches).toBeLessThanOrEqual(4);
    expect(enrichment.fetches).toBeLessThan(received.length);
    expect(authorizations).toEqual(["Bearer s3cret"]);
    expect(await connection.acquire().get("/lookup?key=z")).toEqual({ name: "name-of-z" });

    app.stop();
    expect(await running).toBe(0);
    expect(connection.client).toBeUndefined();
    expect(pipeline.isError()).toBe(false);
    expect(pipeline.metrics.out).toBeGreaterThanOrEqual(4);
  });

  it("a missing required config value is a clear error naming the section and the key", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "MyPipeline");
    expect(() => new WebhookSink(app, pipeline)).toThrow(/\[pipeline:MyPipeline:WebhookSink\].*'url'/);
  });
});

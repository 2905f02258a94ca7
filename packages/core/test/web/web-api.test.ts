import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Lookup, PumpApplication } from "../../src/index.js";
import { captureLogs, until } from "../helpers.js";
import { buildFixture, rawRequest, settled, startPump, stopAll } from "./web-helpers.js";

afterEach(stopAll);

class Countries extends Lookup<string, string> {
  readonly data = new Map([["cz", "Czechia"]]);
  async load(): Promise<boolean> {
    return true;
  }
  get(key: string): string | undefined {
    return this.data.get(key);
  }
  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Dictionary: Object.fromEntries(this.data) };
  }
}

async function getJson(url: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get("content-type"), body: await response.json() };
}

describe("REST API: pipelines", () => {
  it("lists every pipeline's state: sources, processors by depth, metrics, recent log, the error", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => buildFixture(app));
    const fixture = { orders: pump.app.pumpService.pipelines.get("Orders")!, broken: pump.app.pumpService.pipelines.get("Broken")! };
    await until(() => fixture.orders.metrics.out === 5 && fixture.broken.isError());
    const { status, type, body } = await getJson(`${pump.url}/bspump/v1/pipelines`);
    expect(status).toBe(200);
    expect(type).toBe("application/json; charset=utf-8");
    const all = body as Record<string, Record<string, unknown>>;
    expect(Object.keys(all)).toEqual(["Orders", "Broken"]);
    const orders = all.Orders!;
    expect(orders).toMatchObject({
      Id: "Orders",
      Class: "Pipeline",
      Ready: true,
      Throttles: [],
      Sources: [{ Id: "ListSource", Class: "ListSource" }],
      Processors: [
        [
          { Id: "DropOdd", Class: "DropOdd", PipelineId: "Orders" },
          { Id: "UnitTestSink", Class: "UnitTestSink", PipelineId: "Orders" },
        ],
      ],
      Metrics: { in: 10, out: 5, drop: 5, warning: 0, error: 0 },
    });
    expect(orders.Error).toBeUndefined();
    const broken = all.Broken!;
    expect(broken).toMatchObject({ Id: "Broken", Ready: false, Error: "boom on bad", ErrorComponent: "Boom", Metrics: { in: 2, out: 1, error: 1 } });
    expect(broken.ErrorTimestamp).toBeCloseTo(Date.now() / 1000, -1);
    const log = broken.Log as { time: string; level: string; message: string }[];
    expect(log.some((r) => r.level === "error" && r.message === "Pipeline stopped by an error")).toBe(true);
    expect(new Date(log[0]!.time).toISOString()).toBe(log[0]!.time);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  });

  it("answers one pipeline by id (percent-encoded too), 404 for an unknown one", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => buildFixture(app, 'Q"uote\\d'));
    const one = await getJson(`${pump.url}/bspump/v1/pipelines/Broken`);
    expect(one.status).toBe(200);
    expect((one.body as { Id: string }).Id).toBe("Broken");
    const odd = await getJson(`${pump.url}/bspump/v1/pipelines/${encodeURIComponent('Q"uote\\d')}`);
    expect(odd.status).toBe(200);
    expect((odd.body as { Id: string }).Id).toBe('Q"uote\\d');
    const missing = await getJson(`${pump.url}/bspump/v1/pipelines/Nope`);
    expect(missing).toEqual({ status: 404, type: "application/json; charset=utf-8", body: { error: "Pipeline 'Nope' not found", status: 404 } });
  });

  it("POST clear-error clears a hard error: the waiting batch goes on, the new state is answered", async () => {
    let fixture!: ReturnType<typeof buildFixture>;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => (fixture = buildFixture(app)));
    await settled(fixture);
    expect(fixture.brokenSink.events).toEqual(["a"]);

    const response = await fetch(`${pump.url}/bspump/v1/pipelines/Broken/clear-error`, { method: "POST" });
    expect(response.status).toBe(200);
    const state = (await response.json()) as Record<string, unknown>;
    expect(state.Id).toBe("Broken");
    expect(state.Error).toBeUndefined();
    expect(state.ErrorTimestamp).toBeUndefined();
    expect(fixture.broken.isError()).toBe(false);
    await until(() => fixture.brokenSink.events.length === 2, "the rest of the batch");
    expect(fixture.brokenSink.events).toEqual(["a", "c"]);
    const after = await getJson(`${pump.url}/bspump/v1/pipelines/Broken`);
    expect(after.body).toMatchObject({ Ready: true, Metrics: { in: 3, out: 2, error: 1 } });

    // Clearing a pipeline that is not in error changes nothing; an unknown one is 404.
    expect((await fetch(`${pump.url}/bspump/v1/pipelines/Orders/clear-error`, { method: "POST" })).status).toBe(200);
    expect((await fetch(`${pump.url}/bspump/v1/pipelines/Nope/clear-error`, { method: "POST" })).status).toBe(404);
  });

  it("guards clear-error with [web] token: 401 without it, 403 with a wrong one; reads stay open", async () => {
    let fixture!: ReturnType<typeof buildFixture>;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0\ntoken=s3cret-T0ken", (app) => (fixture = buildFixture(app)));
    await settled(fixture);
    const clear = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${pump.url}/bspump/v1/pipelines/Broken/clear-error`, { method: "POST", headers });

    const none = await clear({});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="bspump"');
    expect(await none.json()).toEqual({ error: "Authorization: Bearer <token> is required", status: 401 });
    expect((await clear({ authorization: "Basic czNjcmV0LVQwa2Vu" })).status).toBe(401);
    expect((await clear({ authorization: "Bearer" })).status).toBe(401);
    const wrong = await clear({ authorization: "Bearer s3cret-T0keN" });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ error: "The token is not valid", status: 403 });
    expect((await clear({ authorization: "Bearer s3cret-T0ken-and-more" })).status).toBe(403);
    expect((await clear({ authorization: "Bearer s3cret" })).status).toBe(403);
    expect(fixture.broken.isError()).toBe(true);

    expect((await fetch(`${pump.url}/bspump/v1/pipelines`)).status).toBe(200);
    expect((await clear({ authorization: "bearer  s3cret-T0ken" })).status).toBe(200);
    expect(fixture.broken.isError()).toBe(false);
  });
});

describe("REST API: lookups, manifest, config", () => {
  it("lists lookups, answers one's metadata (404 for an unknown one)", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
      app.pumpService.addLookup(new Countries(app));
      app.pumpService.addLookup(new Countries(app, "Lazy", { lazy: true }));
    });
    const all = await getJson(`${pump.url}/bspump/v1/lookup`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject([
      { Id: "Countries", Class: "Countries", Dictionary: { cz: "Czechia" } },
      { Id: "Lazy", Class: "Countries", Dictionary: { cz: "Czechia" } },
    ]);
    expect((all.body as unknown[]).length).toBe(2);
    expect((await getJson(`${pump.url}/bspump/v1/lookup/Lazy/meta`)).body).toMatchObject({ Id: "Lazy", Class: "Countries", Dictionary: { cz: "Czechia" } });
    for (const path of ["/bspump/v1/lookup/Nope", "/bspump/v1/lookup/Nope/meta"]) {
      const missing = await getJson(`${pump.url}${path}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: "Lookup 'Nope' not found", status: 404 });
    }
  });

  it("serves a lookup's serialized data with an ETag for slaves (304 when they have it), 501 when it cannot serialize", async () => {
    let countries!: Countries;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
      countries = app.pumpService.addLookup(new Countries(app));
      app.pumpService.addLookup(new Countries(app, "Plain"));
    });
    // Assigned, not declared: the test does not depend on whether the base class has serialize().
    Object.assign(countries, { serialize: () => new TextEncoder().encode(JSON.stringify(Object.fromEntries(countries.data))) });
    const etag = `"${createHash("sha1").update('{"cz":"Czechia"}').digest("hex")}"`;

    const response = await fetch(`${pump.url}/bspump/v1/lookup/Countries`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("etag")).toBe(etag);
    expect(await response.text()).toBe('{"cz":"Czechia"}');

    for (const headers of [{ "if-none-match": etag } as Record<string, string>, { "if-none-match": `W/${etag}, "other"` }, { etag: etag.slice(1, -1) }]) {
      const again = await rawRequest(pump.url, "GET", "/bspump/v1/lookup/Countries", { headers });
      expect(again.status).toBe(304);
      expect(again.headers.etag).toBe(etag);
      expect(again.body).toBe("");
    }
    countries.data.set("sk", "Slovakia");
    const changed = await rawRequest(pump.url, "GET", "/bspump/v1/lookup/Countries", { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.body).toBe('{"cz":"Czechia","sk":"Slovakia"}');

    const plain = await getJson(`${pump.url}/bspump/v1/lookup/Plain`);
    expect(plain.status).toBe(501);
    expect(plain.body).toEqual({ error: "Lookup 'Plain' cannot be served: it does not implement serialize()", status: 501 });
  });

  it("answers the manifest: name, versions, when it started", async () => {
    const before = Date.now();
    const pump = await startPump("[web]\nlisten=127.0.0.1:0");
    const { status, body } = await getJson(`${pump.url}/bspump/v1/manifest`);
    expect(status).toBe(200);
    const manifest = body as Record<string, string>;
    expect(manifest).toMatchObject({ NAME: "PumpApplication", PUMP_CORE_VERSION: PumpApplication.VERSION, NODE_VERSION: process.version });
    expect(PumpApplication.VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(new Date(manifest.LAUNCHED_AT!).toISOString()).toBe(manifest.LAUNCHED_AT);
    expect(Date.parse(manifest.LAUNCHED_AT!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(manifest.LAUNCHED_AT!)).toBeLessThanOrEqual(Date.now());

    const named = await startPump("[general]\nname=orders-pump\n[web]\nlisten=127.0.0.1:0");
    expect(((await getJson(`${named.url}/bspump/v1/manifest`)).body as { NAME: string }).NAME).toBe("orders-pump");
  });

  it("answers the config with every secret masked", async () => {
    process.env.PUMP_WEB_TEST_SECRET = "from-the-environment";
    try {
      const conf = [
        "[web]",
        "listen=127.0.0.1:0",
        "token=tok-123456",
        "[connection:ES]",
        "url=https://elastic:pa55word@es.example:9200",
        "password=hunter2",
        "api_key=${PUMP_WEB_TEST_SECRET}",
        "[passwords]",
        "kafka=k-pass",
        "[pipeline:Orders]",
        "async_concurrency_limit=5",
      ].join("\n");
      const pump = await startPump(conf);
      const response = await fetch(`${pump.url}/bspump/v1/config`);
      const text = await response.text();
      expect(response.status).toBe(200);
      const config = JSON.parse(text) as Record<string, Record<string, string>>;
      expect(config.web).toEqual({ listen: "127.0.0.1:0", token: "***" });
      expect(config["connection:ES"]).toEqual({ url: "https://elastic:***@es.example:9200", password: "***", api_key: "***" });
      expect(config.passwords).toEqual({ kafka: "***" });
      expect(config["pipeline:Orders"]).toEqual({ async_concurrency_limit: "5" });
      for (const secret of ["tok-123456", "pa55word", "hunter2", "from-the-environment", "k-pass"]) expect(text).not.toContain(secret);
    } finally {
      delete process.env.PUMP_WEB_TEST_SECRET;
    }
  });
});

describe("REST API: status codes", () => {
  it("404 for an unknown path, 405 with Allow for a wrong method, HEAD like GET without a body", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => buildFixture(app));
    const unknown = await fetch(`${pump.url}/bspump/v2/pipelines`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await unknown.json()).toEqual({ error: "Not found", status: 404 });
    expect((await fetch(`${pump.url}/`)).status).toBe(404);

    const wrong = await fetch(`${pump.url}/bspump/v1/pipelines`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect(await wrong.json()).toEqual({ error: "Method DELETE is not allowed here", status: 405 });
    const getClear = await fetch(`${pump.url}/bspump/v1/pipelines/Broken/clear-error`);
    expect(getClear.status).toBe(405);
    expect(getClear.headers.get("allow")).toBe("POST");

    const head = await rawRequest(pump.url, "HEAD", "/bspump/v1/manifest");
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(Number(head.headers["content-length"])).toBeGreaterThan(10);
    expect(head.body).toBe("");
    // A trailing slash is the same path.
    expect((await fetch(`${pump.url}/bspump/v1/pipelines/`)).status).toBe(200);
  });

  it("400 for bad input: bad percent-encoding, dot segments, a target that is not a path", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => buildFixture(app));
    const badEncoding = await rawRequest(pump.url, "GET", "/bspump/v1/pipelines/%E0%A4%A");
    expect(badEncoding.status).toBe(400);
    expect(JSON.parse(badEncoding.body)).toEqual({ error: "Bad percent-encoding in the path", status: 400 });
    expect((await rawRequest(pump.url, "GET", "/bspump/v1/pipelines/../pipelines")).status).toBe(400);
    expect((await rawRequest(pump.url, "GET", "/bspump/v1/pipelines/%2E%2E")).status).toBe(400);
    expect((await rawRequest(pump.url, "OPTIONS", "*")).status).toBe(400);
  });

  it("indents JSON with ?pretty", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0");
    const pretty = await (await fetch(`${pump.url}/bspump/v1/manifest?pretty=true`)).text();
    expect(pretty).toMatch(/^\{\n {2}"NAME": "PumpApplication",\n/);
    const compact = await (await fetch(`${pump.url}/bspump/v1/manifest`)).text();
    expect(compact).toMatch(/^\{"NAME":"PumpApplication",/);
  });

  it("logs a failing handler's error and answers 500 without details", async () => {
    const logs = captureLogs();
    try {
      const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
        app.pumpService.addLookup(
          new (class Faulty extends Countries {
            override restGet(): Record<string, unknown> {
              throw new Error("secret internals at /srv/pump/lookup.ts:42");
            }
          })(app),
        );
      });
      const response = await fetch(`${pump.url}/bspump/v1/lookup/Faulty/meta`);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: "Internal Server Error", status: 500 });
      expect(text).not.toContain("secret internals");
      const record = logs.records.find((r) => r.message === "Web request failed");
      expect(record?.level).toBe("error");
      expect(record?.fields).toMatchObject({ method: "GET", path: "/bspump/v1/lookup/Faulty/meta", route: "/bspump/v1/lookup/:id/meta" });
      expect((record!.fields.error as Error).message).toContain("secret internals");
      expect(await pump.stop()).toBe(0);
    } finally {
      logs.restore();
    }
  });
});

import { Agent } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, ConfigFile, DuplicateError, PumpApplication, UsageError } from "../../src/index.js";
import { HttpError, WebResponse, WebRouter, WebServer, parseListen, splitPath } from "../../src/web/index.js";
import { captureLogs, until } from "../helpers.js";
import { buildFixture, rawRequest, startPump, stopAll } from "./web-helpers.js";

afterEach(stopAll);

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function refused(url: string): Promise<string | undefined> {
  try {
    await fetch(url);
    return undefined;
  } catch (error) {
    return ((error as Error).cause as { code?: string } | undefined)?.code;
  }
}

describe("parseListen", () => {
  it("reads HOST:PORT, [IPv6]:PORT, 'HOST PORT' and PORT alone (loopback)", () => {
    expect(parseListen("8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseListen(" 0 ")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseListen("0.0.0.0:80")).toEqual({ host: "0.0.0.0", port: 80 });
    expect(parseListen("localhost:8080")).toEqual({ host: "localhost", port: 8080 });
    expect(parseListen("[::1]:8080")).toEqual({ host: "::1", port: 8080 });
    expect(parseListen("[::]:9000")).toEqual({ host: "::", port: 9000 });
    expect(parseListen("0.0.0.0 8080")).toEqual({ host: "0.0.0.0", port: 8080 });
  });

  it("refuses anything else with a ConfigError naming [web] listen", () => {
    for (const bad of ["", "host", "::1:8080", "127.0.0.1:", ":8080", "127.0.0.1:http", "127.0.0.1:65536", "1.2.3.4:80:90", "[::1]", "a b c"]) {
      expect(() => parseListen(bad), bad).toThrow(ConfigError);
    }
    expect(() => parseListen("nope")).toThrow("[web] key 'listen': invalid listen address 'nope' (expected HOST:PORT, [IPv6]:PORT or PORT)");
  });
});

describe("WebRouter", () => {
  it("matches literals, :params and a trailing *, the most specific route first", () => {
    const router = new WebRouter<string>();
    router.add("GET", "/x/:id", "param");
    router.add("GET", "/x/special", "literal");
    router.add("GET", "/x/:id/y", "param-y");
    router.add("GET", "/static/*", "wildcard");
    router.add("GET", "/", "root");
    router.add("post", "/x/:name", "post");
    const get = (path: string): unknown => {
      const found = router.lookup("GET", splitPath(path));
      return found.found ? [found.match.handler, found.match.params] : found.allowed;
    };
    expect(get("/x/42")).toEqual(["param", { id: "42" }]);
    expect(get("/x/special")).toEqual(["literal", {}]);
    expect(get("/x/42/y")).toEqual(["param-y", { id: "42" }]);
    expect(get("/x/42/")).toEqual(["param", { id: "42" }]);
    expect(get("/static/css/a.css")).toEqual(["wildcard", { "*": "css/a.css" }]);
    expect(get("/static")).toEqual(["wildcard", { "*": "" }]);
    expect(get("/")).toEqual(["root", {}]);
    expect(get("/x")).toEqual([]);
    expect(get("/x/42/z")).toEqual([]);
    const post = router.lookup("POST", ["x", "special"]);
    expect(post.found && post.match.params).toEqual({ name: "special" });
    const head = router.lookup("HEAD", ["x", "1"]);
    expect(head.found && head.match.handler).toBe("param");
    expect(router.lookup("DELETE", ["x", "1"])).toEqual({ found: false, allowed: ["GET", "HEAD", "POST"] });
  });

  it("refuses a route twice (whatever its parameter names), bad patterns; removes a route", () => {
    const router = new WebRouter<string>();
    const remove = router.add("GET", "/a/:id", "one");
    expect(() => router.add("GET", "/a/:other", "two")).toThrow(DuplicateError);
    expect(() => router.add("get", "/a/:id", "two")).toThrow("Route 'GET /a/:id' is already registered");
    router.add("PUT", "/a/:id", "put");
    expect(() => router.add("GET", "a", "x")).toThrow(/must start with/);
    expect(() => router.add("GET", "/*/a", "x")).toThrow(/last segment/);
    expect(() => router.add("GET", "/:1x", "x")).toThrow(/parameter name/);
    expect(() => router.add("GE T", "/b", "x")).toThrow(/method/);
    expect(router.list()).toEqual(["GET /a/:id", "PUT /a/:id"]);
    remove();
    expect(router.list()).toEqual(["PUT /a/:id"]);
    router.add("GET", "/a/:id", "again");
  });
});

describe("WebServer in the application", () => {
  it("serves after run() started the pipelines with -w, stops serving after stop (connection refused)", async () => {
    const app = new PumpApplication({ args: ["-w", "127.0.0.1:0"] });
    buildFixture(app);
    const web = WebServer.of(app);
    expect(web.listening).toBe(false);
    let readyWhenListening: boolean[] | undefined;
    const running = app.run();
    await until(() => {
      if (web.listening) readyWhenListening ??= [...app.pumpService.pipelines.values()].map((p) => p.isError() || p.isReady());
      return web.listening;
    });
    expect(app.pumpService.running).toBe(true);
    expect(readyWhenListening).toEqual([true, true]); // started (ready, or already stopped by the fixture's error)
    expect(web.address).toMatchObject({ address: "127.0.0.1", family: "IPv4" });
    expect(web.address!.port).toBeGreaterThan(0);
    const url = web.url!;
    expect(url).toBe(`http://127.0.0.1:${web.address!.port}`);
    expect(web.startedAt).toBeInstanceOf(Date);
    expect((await fetch(`${url}/bspump/v1/pipelines`)).status).toBe(200);
    expect(app.getService("bspump.WebServer")).toBe(web);

    app.stop();
    expect(await running).toBe(0);
    expect(web.listening).toBe(false);
    expect(web.address).toBeUndefined();
    expect(await refused(`${url}/bspump/v1/pipelines`)).toBe("ECONNREFUSED");
  });

  it("PORT alone binds to 127.0.0.1; [::1]:0 to IPv6 loopback", async () => {
    const port = await freePort();
    const pump = await startPump(`[web]\nlisten=${port}`);
    expect(pump.web.address).toMatchObject({ address: "127.0.0.1", port });
    expect((await fetch(`${pump.url}/bspump/v1/manifest`)).status).toBe(200);
    await pump.stop();

    const v6 = await startPump("[web]\nlisten=[::1]:0");
    expect(v6.web.address).toMatchObject({ address: "::1", family: "IPv6" });
    expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await fetch(`${v6.url}/bspump/v1/manifest`)).status).toBe(200);
  });

  it("does not listen without [web] listen", async () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[general]\ntick_period=1") });
    const running = app.run();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(() => app.getService("bspump.WebServer")).toThrow(UsageError);
    app.stop();
    expect(await running).toBe(0);
  });

  it("a port in use fails start-up: a clear logged error, the pipelines stop, run() resolves 1", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    const logs = captureLogs();
    try {
      const app = new PumpApplication({ args: [], config: ConfigFile.parse(`[web]\nlisten=127.0.0.1:${port}`) });
      const { orders } = buildFixture(app);
      expect(await app.run()).toBe(1);
      expect(app.pumpService.running).toBe(false);
      expect(orders.isReady()).toBe(false);
      const record = logs.records.find((r) => r.message === "The web API cannot start: stopping");
      expect(record?.level).toBe("error");
      expect(record?.fields.listen).toBe(`127.0.0.1:${port}`);
      expect((record!.fields.error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
      expect((record!.fields.error as Error).message).toContain("address already in use");
      expect(logs.records.at(-1)).toMatchObject({ message: "Stopped", fields: { exitCode: 1 } });
    } finally {
      logs.restore();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("a bad [web] listen or an empty [web] token fails start-up with a ConfigError", async () => {
    const logs = captureLogs();
    try {
      for (const conf of ["[web]\nlisten=somewhere", "[web]\nlisten=127.0.0.1:0\ntoken=  "]) {
        const app = new PumpApplication({ args: [], config: ConfigFile.parse(conf, "pump.conf") });
        expect(await app.run()).toBe(1);
        const error = logs.records.findLast((r) => r.message === "The web API cannot start: stopping")?.fields.error;
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toMatch(/^pump\.conf:\d+ \[web\] key '(listen|token)'/);
      }
    } finally {
      logs.restore();
    }
  });

  it("runs again after a stop (a new listener)", async () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[web]\nlisten=127.0.0.1:0") });
    const web = WebServer.of(app);
    for (let i = 0; i < 2; i++) {
      const running = app.run();
      await until(() => web.listening);
      expect((await fetch(`${web.url}/bspump/v1/manifest`)).status).toBe(200);
      app.stop();
      expect(await running).toBe(0);
      expect(web.listening).toBe(false);
    }
  });
});

describe("WebServer: routes of other packages", () => {
  it("route(): :params, JSON by default, WebResponse, 204 for undefined, HttpError statuses", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
      const web = WebServer.of(app);
      web.route("GET", "/x/:id", (request) => ({ id: request.params.id, q: request.query.get("q"), path: request.path }));
      web.route("GET", "/text", () => WebResponse.text("hello\n", 202));
      web.route("GET", "/nothing", () => undefined);
      web.route("GET", "/teapot", () => {
        throw new HttpError(418, "I'm a teapot", { "x-why": "because" });
      });
      web.route("GET", "/async", async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [1, 2, 3];
      });
      web.route("GET", "/bigint", () => ({ n: 1n }));
      web.route("POST", "/echo", async (request) => ({ got: await request.json() }), { auth: false });
      web.route("POST", "/small", async (request) => (await request.body(8)).length, { auth: false });
    });
    const x = await fetch(`${pump.url}/x/a%20b?q=1`);
    expect(await x.json()).toEqual({ id: "a b", q: "1", path: "/x/a b" });
    expect(x.headers.get("cache-control")).toBe("no-store");
    expect(x.headers.get("x-content-type-options")).toBe("nosniff");
    const text = await fetch(`${pump.url}/text`);
    expect([text.status, text.headers.get("content-type"), await text.text()]).toEqual([202, "text/plain; charset=utf-8", "hello\n"]);
    const nothing = await fetch(`${pump.url}/nothing`);
    expect([nothing.status, await nothing.text()]).toEqual([204, ""]);
    const teapot = await fetch(`${pump.url}/teapot`);
    expect([teapot.status, teapot.headers.get("x-why"), await teapot.json()]).toEqual([418, "because", { error: "I'm a teapot", status: 418 }]);
    expect(await (await fetch(`${pump.url}/async`)).json()).toEqual([1, 2, 3]);
    const bigint = await fetch(`${pump.url}/bigint`); // JSON.stringify throws: a 500, logged
    expect([bigint.status, await bigint.json()]).toEqual([500, { error: "Internal Server Error", status: 500 }]);

    const post = (path: string, body: string, type = "application/json"): Promise<Response> =>
      fetch(`${pump.url}${path}`, { method: "POST", body, headers: { "content-type": type } });
    expect(await (await post("/echo", '{"a":[1]}')).json()).toEqual({ got: { a: [1] } });
    const badJson = await post("/echo", "{nope");
    expect([badJson.status, await badJson.json()]).toEqual([400, { error: "The body is not valid JSON", status: 400 }]);
    expect((await post("/echo", "a=1", "application/x-www-form-urlencoded")).status).toBe(415);
    expect(await (await post("/small", "12345678")).json()).toBe(8);
    const big = await post("/small", "123456789");
    expect([big.status, await big.json()]).toEqual([413, { error: "The body is larger than 8 bytes", status: 413 }]);
    const chunked = await rawRequest(pump.url, "POST", "/small", { headers: { "transfer-encoding": "chunked" }, body: "x".repeat(100) });
    expect(chunked.status).toBe(413);
  });

  it("guards routes of other methods than GET with the token by default; { auth } says otherwise", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0\ntoken=abc", (app) => {
      const web = WebServer.of(app);
      web.route("DELETE", "/thing/:id", () => ({ deleted: true }));
      web.route("POST", "/open", () => ({ open: true }), { auth: false });
      web.route("GET", "/secret", () => ({ secret: true }), { auth: true });
    });
    expect((await fetch(`${pump.url}/thing/1`, { method: "DELETE" })).status).toBe(401);
    expect((await fetch(`${pump.url}/thing/1`, { method: "DELETE", headers: { authorization: "Bearer abc" } })).status).toBe(200);
    expect((await fetch(`${pump.url}/open`, { method: "POST" })).status).toBe(200);
    expect((await fetch(`${pump.url}/secret`)).status).toBe(401);
    expect((await fetch(`${pump.url}/secret`, { headers: { authorization: "Bearer abd" } })).status).toBe(403);
    expect((await fetch(`${pump.url}/secret`, { headers: { authorization: "Bearer abc" } })).status).toBe(200);
  });

  it("routes added while serving answer at once; a removed route is 404", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0");
    expect((await fetch(`${pump.url}/late`)).status).toBe(404);
    const remove = pump.web.route("GET", "/late", () => "here");
    expect(await (await fetch(`${pump.url}/late`)).json()).toBe("here");
    remove();
    expect((await fetch(`${pump.url}/late`)).status).toBe(404);
    expect(() => pump.web.route("GET", "/bspump/v1/pipelines", () => 1)).toThrow(DuplicateError);
  });
});

describe("WebServer: closing", () => {
  it("closes idle keep-alive connections and streams when the app stops, so run() resolves at once", async () => {
    let streamClosed = false;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
      WebServer.of(app).route("GET", "/events", (request) => {
        request.response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
        request.response.write("data: hello\n\n");
        request.raw.once("close", () => (streamClosed = true));
      });
    });
    // A keep-alive connection, idle after its request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await rawRequest(pump.url, "GET", "/bspump/v1/manifest", { agent });
    expect(first.headers.connection).toBe("keep-alive");
    const idle = Object.values(agent.freeSockets).flat()[0]!;
    expect(idle.destroyed).toBe(false);
    let idleClosed = false;
    idle.once("close", () => (idleClosed = true));

    // A stream that never ends by itself.
    const stream = await fetch(`${pump.url}/events`);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: hello\n\n");

    const started = performance.now();
    expect(await pump.stop()).toBe(0);
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await reader.read()).done).toBe(true);
    await until(() => idleClosed && streamClosed, "the connections to close");
    agent.destroy();
  });

  it("lets a request in progress finish when the app stops; new requests are refused", async () => {
    let release!: () => void;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => {
      WebServer.of(app).route("GET", "/slow", async () => {
        await new Promise<void>((resolve) => (release = resolve));
        return { done: true };
      });
    });
    const slow = fetch(`${pump.url}/slow`);
    await until(() => release !== undefined, "the slow request to arrive");
    const stopped = pump.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await refused(`${pump.url}/bspump/v1/manifest`)).toBe("ECONNREFUSED");
    release();
    const response = await slow;
    expect([response.status, await response.json()]).toEqual([200, { done: true }]);
    expect(await stopped).toBe(0);
  });
});

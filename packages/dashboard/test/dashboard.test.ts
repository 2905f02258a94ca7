import { ConfigError, PumpApplication, ConfigFile } from "@pump/core";
import { afterEach, describe, expect, it } from "vitest";
import { AlreadyMountedError, CONTENT_SECURITY_POLICY, STREAM_ROUTE, mountDashboard, type Dashboard, type DashboardFrame } from "../src/index.js";
import { records } from "./setup.js";
import { openStream } from "./sse.js";
import { HOSTILE, createPump, until, type TestPump } from "./pump.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
});

/** The test pump, running with the dashboard on a free loopback port. */
async function running(conf = "", config: Record<string, string | number> = {}): Promise<TestPump & { dashboard: Dashboard; url: string; exited: Promise<number> }> {
  const pump = createPump(`[web]\nlisten=127.0.0.1:0\n${conf}`);
  const dashboard = mountDashboard(pump.app, { config });
  const exited = pump.app.run();
  cleanups.push(() => {
    pump.app.stop();
    return exited;
  });
  const url = await dashboard.listening;
  return { ...pump, dashboard, url, exited };
}

describe("mountDashboard", () => {
  it("serves the page at / with its own files only, under a strict content security policy", async () => {
    const { url, dashboard } = await running();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dashboard.url).toBe(url);
    expect(records.some((r) => r.message === "Dashboard listening" && r.fields.url === url)).toBe(true);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const html = await page.text();
    // every script, style and icon comes from the pump itself
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) expect(ref).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/<script>|<style>|\son\w+=/i);

    for (const [file, type] of [
      ["dashboard.js", "text/javascript; charset=utf-8"],
      ["dashboard.css", "text/css; charset=utf-8"],
      ["icon.svg", "image/svg+xml"],
    ]) {
      const response = await fetch(new URL(`/dashboard/assets/${file}`, url));
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type")).toBe(type);
      const etag = response.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      const again = await fetch(new URL(`/dashboard/assets/${file}`, url), { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);
    }
    const js = await (await fetch(new URL("/dashboard/assets/dashboard.js", url))).text();
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect((await fetch(new URL("/dashboard/assets/nothing.js", url))).status).toBe(404);
    expect((await fetch(new URL("/dashboard/assets/index.html", url))).status).toBe(404);
  });

  it("streams frames over Server-Sent Events: a full one at once, then one per interval; a client that leaves is let go", async () => {
    const { url, dashboard } = await running("", { interval: 0.05 });
    const a = await openStream(new URL(STREAM_ROUTE, url).href);
    expect(a.response.statusCode).toBe(200);
    expect(a.response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(a.response.headers["cache-control"]).toBe("no-store");
    const first = await a.nth(0);
    expect(a.retry).toBe(2000);
    expect(first).toMatchObject({ v: 1, full: true });
    expect(first.pipelines.map((p) => p.id)).toEqual(["Orders", "Shipping"]);
    const second = await a.nth(1);
    expect(second).toMatchObject({ full: false });
    expect(second.seq).toBeGreaterThan(first.seq);

    const b = await openStream(new URL(STREAM_ROUTE, url).href);
    await b.nth(1);
    expect(dashboard.feed.clients).toBe(2);
    a.close();
    await until(() => dashboard.feed.clients === 1);

    // reconnects: a full frame again, with the history sampled meanwhile
    const again = await openStream(new URL(STREAM_ROUTE, url).href);
    const restart = await again.nth(0);
    expect(restart.full).toBe(true);
    expect(restart.history!.Orders!.t.length).toBeGreaterThanOrEqual(1);
    expect(dashboard.feed.clients).toBe(2);
  });

  it("ends the streams when the pump stops, and the pump exits 0", async () => {
    const { url, app, exited, dashboard } = await running();
    const client = await openStream(new URL(STREAM_ROUTE, url).href);
    await client.nth(0);
    app.stop();
    expect(await exited).toBe(0);
    await client.closed;
    expect(dashboard.feed.clients).toBe(0);
  });

  it("answers one frame as JSON at /bspump/v1/dashboard", async () => {
    const { url } = await running();
    const frame = (await (await fetch(new URL("/bspump/v1/dashboard", url))).json()) as DashboardFrame;
    expect(frame).toMatchObject({ v: 1, full: true });
    expect(frame.edges.length + frame.pipelines.length).toBeGreaterThan(0);
  });

  it("leaves clearing an error to core's route, guarded by [web] token: refused without it or with a wrong one", async () => {
    const pump = await running("token=s3cret\n");
    const frame = (await (await fetch(new URL("/bspump/v1/dashboard", pump.url))).json()) as DashboardFrame;
    expect(frame.pump.tokenRequired).toBe(true);
    pump.source.poison = { event: { id: 9, note: HOSTILE }, context: {} };
    await until(() => pump.orders.isError());
    const clear = new URL("/bspump/v1/pipelines/Orders/clear-error", pump.url);
    expect((await fetch(clear, { method: "POST" })).status).toBe(401);
    expect((await fetch(clear, { method: "POST", headers: { authorization: "Bearer wrong" } })).status).toBe(403);
    expect(pump.orders.isError()).toBe(true);
    expect((await fetch(clear, { method: "POST", headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    expect(pump.orders.isError()).toBe(false);
  });

  it("serves the page at another path when [dashboard] path says so", async () => {
    const { url } = await running("[dashboard]\npath=/ops/\n");
    expect(url).toMatch(/\/ops$/);
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(new URL("/ops/", url))).status).toBe(200);
    expect((await fetch(new URL("/", url))).status).toBe(404);
  });

  it("opens the listener on loopback when the configuration has none, and refuses a second mount", () => {
    const app = new PumpApplication({ args: [] });
    const dashboard = mountDashboard(app);
    expect(app.config.get("web", "listen")).toBe("127.0.0.1:8080");
    expect(() => mountDashboard(app)).toThrow(AlreadyMountedError);
    dashboard.unmount();
    mountDashboard(app).unmount();

    const configured = new PumpApplication({ args: [], config: ConfigFile.parse("[web]\nlisten=127.0.0.1:9999\n") });
    mountDashboard(configured).unmount();
    expect(configured.config.get("web", "listen")).toBe("127.0.0.1:9999");
  });

  it("unmount() takes the page and the stream away", async () => {
    const { url, dashboard } = await running();
    dashboard.unmount();
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(new URL(STREAM_ROUTE, url))).status).toBe(404);
  });

  it("rejects a bad [dashboard] value with a ConfigError naming the key", () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[dashboard]\ninterval=0\n") });
    expect(() => mountDashboard(app)).toThrow(ConfigError);
    expect(() => mountDashboard(app)).toThrow(/\[dashboard\].*interval/);
    const bad = new PumpApplication({ args: [], config: ConfigFile.parse("[dashboard]\nlisten=nowhere\n") });
    expect(() => mountDashboard(bad)).toThrow(/\[dashboard\] key 'listen'/);
  });
});

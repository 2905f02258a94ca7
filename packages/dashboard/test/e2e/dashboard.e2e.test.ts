// The dashboard in real Chromium: a pump with two linked pipelines, the page, and what an operator sees
// and does. Screenshots go to test-artifacts/ (git-ignored).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WebServer } from "@pump/core";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { mountDashboard } from "../../src/index.js";
import { HOSTILE, createPump, type TestPump } from "../pump.js";
import { describeWithChromium, launch } from "./chromium.js";

// what the functions run in the page see (this file is type-checked without the DOM's types)
declare const document: { querySelector(selector: string): { textContent: string | null } | null; body: { dataset: Record<string, string | undefined> } };
declare const window: { pwned?: number };

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const TOKEN = "s3cret-operator-token";
/** How long a wait may take before the test fails: a guard against a hang on a loaded CI machine, not a speed limit. */
const PATIENCE_MS = 60_000;
const poll = <T>(value: () => Promise<T>) => expect.poll(value, { timeout: PATIENCE_MS, interval: 100 });

describeWithChromium("the dashboard in Chromium", (executable) => {
  let pump: TestPump;
  let exited: Promise<number>;
  let url: string;
  let page: Page;
  let closeBrowser: () => Promise<void>;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];

  const card = (id: string) => page.locator(`article[data-pipeline="${id}"]`);
  const counter = async (id: string, name: string): Promise<number> => Number((await card(id).locator(`[data-counter="${name}"]`).textContent())!.replaceAll(",", ""));
  const shoot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  /** Waits until the counter shows more than it does now: the page updates by itself. */
  const counterMoves = async (id: string, name: string): Promise<void> => {
    const before = await counter(id, name);
    await page.waitForFunction(
      ([selector, value]) => Number(document.querySelector(selector as string)?.textContent?.replaceAll(",", "")) > (value as number),
      [`article[data-pipeline="${id}"] [data-counter="${name}"]`, before] as const,
    );
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    pump = createPump(`[general]\nname=orders-pump\n[web]\nlisten=127.0.0.1:0\ntoken=${TOKEN}\n`);
    const dashboard = mountDashboard(pump.app, { config: { interval: 0.5 } });
    exited = pump.app.run();
    url = await dashboard.listening;
    const browser = await launch(executable);
    closeBrowser = browser.close;
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(PATIENCE_MS);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // a refused clear (401/403) is logged by Chromium as a failed resource load: expected here
      if (message.type() === "error" && !/status of 40[13]/.test(message.text())) consoleErrors.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(new URL(url).origin) && !request.url().startsWith("data:")) foreignRequests.push(request.url());
    });
    await page.goto(url);
  });

  afterAll(async () => {
    await closeBrowser?.();
    pump?.app.stop();
    await exited;
  });

  it("shows both pipelines as chains, the route between them, lookups and connections, with counters that move", async () => {
    await page.waitForSelector('#link[data-state="live"]');
    await poll(() => page.locator("#pump-name").textContent()).toBe("orders-pump");
    await poll(() => card("Orders").getAttribute("data-state")).toBe("ready");
    expect(await card("Orders").locator(".chip b").allTextContents()).toEqual(["OrdersSource", "Validate", "ToShipping"]);
    expect(await card("Shipping").locator(".chip b").allTextContents()).toEqual(["InternalSource", "Enrich", "SlowSink"]);
    // Orders feeds Shipping: drawn as an edge, Shipping in the column to the right
    await page.waitForSelector("#edges path.route", { state: "attached" });
    expect(await page.locator("#edges text").allTextContents()).toEqual(["InternalSource"]);
    const [orders, shipping] = [await card("Orders").boundingBox(), await card("Shipping").boundingBox()];
    expect(shipping!.x).toBeGreaterThan(orders!.x + orders!.width);

    await counterMoves("Orders", "in");
    await counterMoves("Shipping", "out");
    await poll(() => card("Orders").locator(".eps .in").textContent()).toMatch(/^[1-9][\d,.]*\/s in$/);
    await poll(() => card("Orders").locator(".spark polyline.in").getAttribute("points")).toMatch(/ /); // two points or more
    expect(await card("Orders").locator(".chip small").nth(1).textContent()).toMatch(/^[\d,]+ calls · /);

    expect(await page.locator('#lookups tr[data-lookup="Carriers"] td').allTextContents()).toEqual(["Carriers", "DictionaryLookup", "3", "yes", expect.stringMatching(/ago$/), expect.stringMatching(/ago$/)]);
    expect(await page.locator('#connections tr[data-connection="WarehouseConnection"] td').nth(2).textContent()).toBe("State: connected · Reconnects: 0");
    expect(await page.locator('#delivery tr[data-pipeline="Shipping"] td').count()).toBe(6);
    expect(await page.locator("#token-box").isVisible()).toBe(true); // [web] token is set
    await shoot("1-running");
  });

  it("shows Shipping as throttled, by its sink, while the slow sink holds it — and Orders waiting for Shipping", async () => {
    pump.sink.stall();
    await page.waitForSelector('article[data-pipeline="Shipping"][data-state="throttled"]');
    expect(await card("Shipping").locator(".badge").textContent()).toBe("throttled");
    await poll(() => card("Shipping").locator(".why").textContent()).toMatch(/^throttled (for \d+ s )?by Shipping\.SlowSink \(component\)$/);
    await page.waitForSelector('article[data-pipeline="Orders"][data-state="throttled"]');
    await poll(() => card("Orders").locator(".why").textContent()).toMatch(/by .*Shipping \(pipeline\)/);
    await poll(() => card("Shipping").locator(".chip.holding b").textContent()).toBe("SlowSink");
    await shoot("2-throttled");

    pump.sink.resume();
    await page.waitForSelector('article[data-pipeline="Shipping"][data-state="ready"]');
    await page.waitForSelector('article[data-pipeline="Orders"][data-state="ready"]');
    await counterMoves("Shipping", "out");
  });

  it("shows a hard error in full, as text — markup in the event or its context never runs", async () => {
    pump.source.poison = { event: { id: 666, note: HOSTILE }, context: { customer: HOSTILE } };
    const box = card("Orders").locator("section.error");
    await box.waitFor({ state: "visible" });
    expect(await card("Orders").getAttribute("data-state")).toBe("error");
    expect(await box.locator("h4").textContent()).toBe("Hard error in Validate");
    expect(await box.locator(".reason").textContent()).toBe(`order 666 has an unknown note: ${HOSTILE}`);
    expect(await box.locator(".meta").textContent()).toMatch(/^ValidationError ORDER_INVALID · at \d\d:\d\d:\d\d$/);
    expect(JSON.parse((await box.locator("pre.event").textContent())!)).toEqual({ id: 666, note: HOSTILE });
    expect(JSON.parse((await box.locator("pre.context").textContent())!)).toEqual({ customer: HOSTILE });
    expect(await card("Orders").locator(".chip.failed b").textContent()).toBe("Validate");
    await poll(() => page.locator("#log tbody tr").first().textContent()).toContain("Pipeline stopped by an error");
    // nothing of the event became markup, and none of its script ran
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(await page.evaluate(() => window.pwned)).toBeUndefined();
    await box.scrollIntoViewIfNeeded();
    await shoot("3-error");
  });

  it("refuses to clear the error without the token and with a wrong one; the right token clears it and the pipeline goes on", async () => {
    const box = card("Orders").locator("section.error");
    await box.locator("button.clear").click();
    await poll(() => box.locator(".outcome").textContent()).toMatch(/^refused \(401: .*\): enter the operator token above$/);
    expect(pump.orders.isError()).toBe(true);

    await page.fill("#token", "not-the-token");
    await box.locator("button.clear").click();
    await poll(() => box.locator(".outcome").textContent()).toMatch(/^refused \(403: .*\): wrong operator token$/);
    expect(pump.orders.isError()).toBe(true);
    expect(await box.isVisible()).toBe(true);
    await shoot("4-refused");

    await page.fill("#token", TOKEN);
    await box.locator("button.clear").click();
    await box.waitFor({ state: "hidden" });
    expect(pump.orders.isError()).toBe(false);
    await page.waitForSelector('article[data-pipeline="Orders"][data-state="ready"]');
    await counterMoves("Orders", "in");
    await counterMoves("Shipping", "out");
    expect(await counter("Orders", "error")).toBe(1);
    await shoot("5-cleared");
  });

  it("reconnects by itself when the stream breaks (the listener closed and opened again)", async () => {
    const seq = Number(await page.locator("body").getAttribute("data-seq"));
    const web = WebServer.of(pump.app);
    pump.app.config.set("web", "listen", `127.0.0.1:${web.address!.port}`); // the same port again
    await web.close();
    await page.waitForSelector('#link[data-state="connecting"], #link[data-state="down"]');
    await web.start();
    await page.waitForSelector('#link[data-state="live"]');
    await page.waitForFunction((before) => Number(document.body.dataset.seq) > before, seq);
  });

  it("loaded nothing from anywhere but the pump, and logged no script error", async () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(await page.evaluate(() => window.pwned)).toBeUndefined();
  });
});

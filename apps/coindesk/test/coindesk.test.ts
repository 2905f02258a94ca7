import { mkdtempSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { logging, PumpApplication, type LogRecord } from "@pump/core";
import { ProcessorTestCase } from "@pump/core/testing";
import { HTTPClientSource } from "@pump/http";
import { describe, expect, it } from "vitest";
import { EnrichProcessor, SamplePipeline, type CurrentPrice } from "../src/pipeline.ts";
import { recordedPrices, startStandIn, type StandIn } from "../src/stand-in.ts";
import { deferrals, pumpsIn } from "./pump-process.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();

async function standIn(): Promise<StandIn> {
  const server = await startStandIn();
  defer(() => server.close());
  return server;
}

const pump = pumpsIn(here);

describe("EnrichProcessor", () => {
  it("adds the price in yen at 113.70 per dollar and keeps the other currencies", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor(EnrichProcessor);
    const [price] = recordedPrices();
    const [[, event]] = (await test.execute([[null, structuredClone(price)]])) as [[unknown, CurrentPrice]];
    expect(event.bpi.JPY).toEqual({ code: "JPY", symbol: "¥", rate: "4,296,680.3625", description: "JPY", rate_float: 37789.625 * 113.7 });
    expect(Object.keys(event.bpi)).toEqual(["USD", "GBP", "EUR", "JPY"]);
    expect(event.bpi.USD).toEqual(price!.bpi.USD);
  });

  it("fails the event when the answer has no USD rate: a pipeline error naming the processor", async () => {
    const records: LogRecord[] = [];
    logging.setWriter((record) => records.push(record));
    defer(() => logging.setWriter(undefined));
    const test = new ProcessorTestCase();
    test.setUpProcessor(EnrichProcessor);
    await expect(test.execute([[null, { bpi: {} }]])).rejects.toThrow(/no USD rate/);
    expect(records.find((record) => record.level === "error")?.fields).toMatchObject({ component: "EnrichProcessor" });
  });
});

describe("the pipeline", () => {
  it("polls the real Coindesk URL unless the configuration says otherwise", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new SamplePipeline(app, "SamplePipeline");
    expect((pipeline.locateSource("HTTPClientSource") as HTTPClientSource).url).toBe("https://api.coindesk.com/v1/bpi/currentprice.json");
  });
});

describe("the stand-in", () => {
  it("answers the recorded prices in turn, and 404 elsewhere", async () => {
    const server = await standIn();
    const rates: number[] = [];
    for (let i = 0; i < 4; i++) rates.push(((await (await fetch(server.url)).json()) as CurrentPrice).bpi.USD!.rate_float);
    expect(rates).toEqual([37789.625, 37813.8733, 37816.3283, 37789.625]);
    expect((await fetch(new URL("/v2/other", server.url))).status).toBe(404);
    expect(server.requests).toBe(4);
  });
});

describe("the pump, run as `node src/main.ts -c FILE`", () => {
  it("prints each recorded price with the yen added, every 5 seconds, and stops on Ctrl-C with exit code 0", async () => {
    const server = await standIn();
    const dir = mkdtempSync(join(tmpdir(), "coindesk-"));
    writeFileSync(join(dir, "pump.conf"), `[pipeline:SamplePipeline:HTTPClientSource]\nurl=${server.url}\n`);
    const child = pump(["src/main.ts", "-c", join(dir, "pump.conf")]);
    await child.waitFor("two prices were printed", () => (child.stdout.match(/JPY: \{/g) ?? []).length >= 2);
    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stderr).toMatch(/1 pipeline ready/);
    // PPrintSink lays each event out as pprint does: the recorded answers, in order, each with its yen.
    expect(child.stdout).toContain("chartName: 'Bitcoin'");
    expect(child.stdout).toMatch(/USD: \{\s+code: 'USD',\s+symbol: '\$',\s+rate: '37,789\.6250',/);
    expect(child.stdout).toMatch(/JPY: \{\s+code: 'JPY',\s+symbol: '¥',\s+rate: '4,296,680\.3625',\s+description: 'JPY',\s+rate_float: 4296680\.3625\s+\}/);
    expect(child.stdout).toMatch(/rate: '4,299,437\.3942',/); // 37,813.8733 × 113.7, the second answer
    expect(server.requests).toBeGreaterThanOrEqual(2);
  });
});

describe("`pnpm start:offline` (node src/offline.ts)", () => {
  it("starts the stand-in on etc/offline.conf's address, runs the pump against it, and closes both on SIGTERM", async () => {
    const child = pump(["src/offline.ts"]);
    await child.waitFor("a price was printed", () => child.stdout.includes("JPY: {"));
    expect(child.stderr).toContain("Coindesk API stand-in (recorded answers, not the real API): http://127.0.0.1:8701/v1/bpi/currentprice.json");
    expect(child.stdout).toContain("rate: '4,296,680.3625'");
    expect(await child.stop("SIGTERM")).toBe(0);
    // The stand-in went with the pump: nothing listens on its port any more.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection(8701, "127.0.0.1");
      socket.once("connect", () => resolve(socket.destroy() && false));
      socket.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

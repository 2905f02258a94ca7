import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFile, logging, PumpApplication, type LogRecord } from "@pump/core";
import { ProcessorTestCase } from "@pump/core/testing";
import { HTTPClientSource } from "@pump/http";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";
import { describe, expect, it } from "vitest";
import { AddRarityPriceCoef, SamplePipeline, type PricedItem } from "../src/pipeline.ts";
import { RECORDED, startStandIn, type StandIn } from "../src/stand-in.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();

async function standIn(apiKey?: string): Promise<StandIn> {
  const server = await startStandIn({ apiKey });
  defer(() => server.close());
  return server;
}

const pump = pumpsIn(here);

function captureLogs(): LogRecord[] {
  const logs: LogRecord[] = [];
  logging.setWriter((record) => logs.push(record));
  defer(() => logging.setWriter(undefined));
  return logs;
}

const HEADER = "imageUrl,manifestId,name,rarity,storeCategory,vBucks,Coef";

describe("AddRarityPriceCoef", () => {
  it("adds rarity over price × 100 to each item; a free item costs 1, a rarity the tutorial does not rank gets 1", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor(AddRarityPriceCoef);
    const [[, items]] = (await test.execute([[null, RECORDED]])) as [[unknown, PricedItem[]]];
    expect(items).toHaveLength(12);
    expect(Object.fromEntries(items.map((item) => [item.name, item.Coef]))).toEqual({
      "Marsh Walk": 1, // Sturdy
      "Arcane Vi": 400, // Epic, free
      "Piltover Warden Hammer": 0.5, // Epic, 800
      Marsha: (4 / 1500) * 100,
      Marshmello: 1, // Quality
      "Arcane Jinx": 400,
      "Goblin Glider": 0.5,
      "Renegade Raider": 0.25, // Rare, 1200
      "Take The L": 0.4, // Uncommon, 500
      Pickaxe: 100, // Handmade, free
      "Leviathan Axe": (5 / 1500) * 100, // Legendary
      Fishstick: 1, // Fine
    });
    expect(items[0]).toEqual({ imageUrl: "https://trackercdn.com/legacycdn/fortnite/8BD06909_large.png", manifestId: 6909, name: "Marsh Walk", rarity: "Sturdy", storeCategory: "BRSpecialFeatured", vBucks: 500, Coef: 1 });
  });

  it("refuses an answer that is not a list of items, showing what the API said", async () => {
    captureLogs();
    const test = new ProcessorTestCase();
    test.setUpProcessor(AddRarityPriceCoef);
    await expect(test.execute([[null, Buffer.from('{"message":"Invalid authentication credentials"}')]])).rejects.toThrow(
      'expected a list of store items, got {"message":"Invalid authentication credentials"}',
    );
  });
});

describe("SamplePipeline", () => {
  it("asks the tutorial's URL with the API key of [pipeline:SamplePipeline] in the TRN-Api-Key header", () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[pipeline:SamplePipeline]\napi_key=k3y", "config.conf") });
    const source = new SamplePipeline(app, "SamplePipeline").locateSource("HTTPClientSource") as HTTPClientSource;
    expect([source.url, source.headers]).toEqual(["https://api.fortnitetracker.com/v1/store", { "TRN-Api-Key": "k3y" }]);
  });

  it("stops with the API's 401 when the key is wrong (after the source's retries)", async () => {
    const logs = captureLogs();
    const server = await standIn("right");
    const conf = `[pipeline:SamplePipeline]\nurl=${server.url}\napi_key=wrong\n[pipeline:SamplePipeline:HTTPClientSource]\nmax_failed_retries=2\nfail_chilldown=0`;
    const app = new PumpApplication({ args: [], config: ConfigFile.parse(conf, "test.conf") });
    const pipeline = app.pumpService.addPipeline(new SamplePipeline(app, "SamplePipeline"));
    const running = app.run();
    while (!pipeline.isError()) await new Promise((resolve) => setTimeout(resolve, 20));
    app.stop();
    expect(await running).toBe(0);
    expect(server.answered).toBe(0);
    expect(logs.filter((record) => record.level === "warn").map((record) => record.message)).toEqual([expect.stringMatching(/401.*will retry \(1\/2\)/)]);
    expect(String(pipeline.error?.error)).toMatch(/401/);
  });
});

describe("the pump, run as `node src/main.ts -c FILE`", () => {
  it("writes the store with its coefficients to the CSV file every 2 seconds, prints it, and stops on Ctrl-C with exit code 0", async () => {
    const server = await standIn("from-conf");
    const dir = mkdtempSync(join(tmpdir(), "fortnite-"));
    const csv = join(dir, "data.csv");
    writeFileSync(join(dir, "config.conf"), `[pipeline:SamplePipeline]\nurl = ${server.url}\napi_key = from-conf\n\n[pipeline:SamplePipeline:JSONtoCSV]\npath = ${csv}\n`);
    const child = pump(["src/main.ts", "-c", join(dir, "config.conf")]);
    await child.waitFor("the store was asked twice", () => server.answered >= 2 && (child.stdout.match(/Fishstick/g) ?? []).length >= 2);
    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stdout).toMatch(/│ 'Arcane Vi'\s+│ 'Epic'\s+│ 'BRSpecialFeatured' │ 0\s+│ 400\s+│/);
    const lines = readFileSync(csv, "utf8").split("\n");
    expect(lines).toHaveLength(14); // the header, 12 items, and "" after the last "\n": one store, not one per cycle
    expect(lines[0]).toBe(HEADER);
    expect(lines[2]).toBe("https://trackercdn.com/legacycdn/fortnite/275915210_large.png,15210,Arcane Vi,Epic,BRSpecialFeatured,0,400");
    expect(lines[4]).toBe("https://trackercdn.com/legacycdn/fortnite/6C4015364_large.png,15364,Marsha,Epic,BRSpecialFeatured,1500,0.26666666666666666");
    expect(lines.slice(1, -1).map((line) => line.split(",").length)).toEqual(Array(12).fill(7));
  });
});

describe("`pnpm start:offline` (node src/offline.ts)", () => {
  it("runs the pump against the stand-in of etc/offline.conf and writes ./data.csv", async () => {
    const started = Date.now();
    const csv = join(here, "data.csv");
    const child = pump(["src/offline.ts"]);
    await child.waitFor("data.csv was written", () => existsSync(csv) && statSync(csv).mtimeMs >= started - 1000 && child.stdout.includes("Fishstick"));
    expect(child.stderr).toContain("Fortnite Tracker API stand-in (recorded answer, not the real API): http://127.0.0.1:8704/v1/store");
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe(HEADER);
  });
});

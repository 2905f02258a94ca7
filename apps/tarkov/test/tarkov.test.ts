import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { ConfigFile, logging, Pipeline, PumpApplication, RunOnceTrigger, Sink, type Context, type LogRecord } from "@pump/core";
import { ProcessorTestCase } from "@pump/core/testing";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";
import { describe, expect, it } from "vitest";
import { DataFrame } from "../src/data-frame.ts";
import { FilterByStation, IOHTTPSource, query, type CraftRow, type CraftsAnswer } from "../src/pipeline.ts";
import { RECORDED, startStandIn, type StandIn } from "../src/stand-in.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();

async function standIn(): Promise<StandIn> {
  const server = await startStandIn();
  defer(() => server.close());
  return server;
}

const pump = pumpsIn(here);

const recorded = (): CraftsAnswer => JSON.parse(RECORDED.toString("utf8")) as CraftsAnswer;
const HEADER = "station,name,output_price_item,duration,input_price_item,profit,profit_per_hour";

describe("FilterByStation", () => {
  it("makes one row per craft: output and input prices, hours, profit and profit per hour", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor(FilterByStation);
    const [[, table]] = (await test.execute([[null, recorded()]])) as [[unknown, DataFrame<CraftRow>]];
    expect(table.columns).toEqual(["station", "name", "output_price_item", "duration", "input_price_item", "profit", "profit_per_hour"]);
    expect(table.rows).toHaveLength(15);
    // The tutorial's rows: 11000 s of the booze generator turn 2 Sugar and 1 Water into a Moonshine.
    expect(table.rows[0]).toEqual({ station: "Booze generator level 1", name: "Moonshine", output_price_item: 286999, duration: 3.056, input_price_item: 236998, profit: 50001, profit_per_hour: 16361.584 });
    expect(table.rows[4]).toMatchObject({ name: "RFIDR", duration: 53.333, profit: 175000, profit_per_hour: 3281.271 });
    // No market price (null) counts as 0, for the reward and for the items needed.
    expect(table.rows.find((row) => row.name === "BP")).toEqual({ station: "Workbench level 3", name: "BP", output_price_item: 0, duration: 16.667, input_price_item: 108000, profit: -108000, profit_per_hour: -6479.87 });
    expect(table.rows.find((row) => row.name === "PS")).toMatchObject({ output_price_item: 0, input_price_item: 15000 });
    // Two of a reward count twice.
    expect(table.rows.find((row) => row.name === "Condmilk")).toMatchObject({ output_price_item: 43000, profit: -15499 });
  });
});

/** A frame of `n` rows with three of the columns. */
function frame(n: number): DataFrame<CraftRow> {
  const df = new DataFrame<CraftRow>(["station", "name", "profit"]);
  for (let i = 0; i < n; i++) df.append({ station: `Workbench level ${i}`, name: `Item, "${i}"`, output_price_item: 0, duration: 1, input_price_item: 0, profit: i * 1000, profit_per_hour: null });
  return df;
}

describe("DataFrame", () => {

  it("prints as pandas prints a frame: an index, columns right-aligned", () => {
    expect(inspect(frame(2))).toBe(
      ["             station       name  profit", "0  Workbench level 0  Item, \"0\"       0", "1  Workbench level 1  Item, \"1\"    1000"].join("\n"),
    );
  });

  it("cuts a frame longer than 60 rows to its first and last 5, and says how large it is", () => {
    const lines = inspect(frame(133)).split("\n");
    expect(lines).toHaveLength(14);
    expect(lines[6]).toMatch(/^\.\.\s+\.\.\.\s+\.\.\.\s+\.\.\.$/);
    expect(lines[11]).toMatch(/^132\s+Workbench level 132/);
    expect(lines.at(-1)).toBe("[133 rows x 3 columns]");
  });

  it("writes CSV as to_csv(index=False) does: a header, fields quoted only where needed", () => {
    expect(frame(1).toCSV()).toBe('station,name,profit\nWorkbench level 0,"Item, ""0""",0\n');
  });
});

/** One cycle against `url`; resolves what reached the end of the pipeline and what was logged. */
async function oneCycle(url: string): Promise<{ answers: CraftsAnswer[]; logs: LogRecord[]; warnings: number }> {
  const logs: LogRecord[] = [];
  logging.setWriter((record) => logs.push(record));
  defer(() => logging.setWriter(undefined));
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(`[pipeline:P:IOHTTPSource]\nurl=${url}`, "test.conf") });
  const pipeline = new Pipeline(app, "P");
  const answers: CraftsAnswer[] = [];
  pipeline.handleError = () => true; // soft: count and go on
  pipeline.build(
    new IOHTTPSource(app, pipeline).on(new RunOnceTrigger(app)),
    new (class extends Sink<CraftsAnswer> {
      process(_context: Context, answer: CraftsAnswer): void {
        answers.push(answer);
      }
    })(app, pipeline),
  );
  app.pumpService.addPipeline(pipeline);
  expect(await app.run()).toBe(0);
  return { answers, logs, warnings: pipeline.metrics.counters().warning };
}

describe("IOHTTPSource", () => {
  it("POSTs the tutorial's query to the tutorial's URL unless configured otherwise", () => {
    const app = new PumpApplication({ args: [] });
    const source = new IOHTTPSource(app, new Pipeline(app, "P"));
    expect([source.method, source.url, String(source.body), source.headers]).toEqual(["POST", "https://tarkov-tools.com/graphql", JSON.stringify({ query }), { "Content-Type": "application/json" }]);
  });

  it("hands the parsed answer to the pipeline", async () => {
    const server = await standIn();
    const { answers } = await oneCycle(server.url);
    expect(answers).toEqual([recorded()]);
    expect(server.answered).toBe(1);
  });

  it("reports an answer with GraphQL errors through the pipeline's error handling, and hands nothing over", async () => {
    const server = createServer((_request, response) => response.writeHead(200, { "Content-Type": "application/json" }).end('{"errors":[{"message":"Cannot query field \\"source\\" on type \\"Craft\\"."}]}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    defer(() => server.close());
    const { answers, logs, warnings } = await oneCycle(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
    expect(answers).toEqual([]);
    expect(warnings).toBe(1);
    expect(logs.map((record) => `${record.message} ${String(record.fields.error)}`).join("\n")).toContain('the query failed: Cannot query field "source" on type "Craft".');
  });
});

describe("the pump, run as `node src/main.ts -c FILE`", () => {
  it("prints the table and replaces the CSV file with it every 5 seconds; stops on Ctrl-C with exit code 0", async () => {
    const server = await standIn();
    const dir = mkdtempSync(join(tmpdir(), "tarkov-"));
    const csv = join(dir, "Data", "TarkovData.csv");
    writeFileSync(join(dir, "pump.conf"), `[pipeline:SamplePipeline:IOHTTPSource]\nurl=${server.url}\n\n[pipeline:SamplePipeline:DataFrameToCSV]\npath=${csv}\n`);
    const child = pump(["src/main.ts", "-c", join(dir, "pump.conf")]);
    await child.waitFor("two tables were printed", () => (child.stdout.match(/^\s+station\s+name\s+output_price_item/gm) ?? []).length >= 2);
    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stdout).toMatch(/^0\s+Booze generator level 1\s+Moonshine\s+286999\s+3\.056\s+236998\s+50001\s+16361\.584$/m);
    // The file holds one table — the last cycle's — not one per cycle.
    const lines = readFileSync(csv, "utf8").split("\n");
    expect(lines).toHaveLength(17); // the header, 15 crafts and the empty string after the last "\n"
    expect(lines[0]).toBe(HEADER);
    expect(lines[1]).toBe("Booze generator level 1,Moonshine,286999,3.056,236998,50001,16361.584");
    expect(lines[14]).toBe("Workbench level 3,BP,0,16.667,108000,-108000,-6479.87");
    expect(lines.slice(1, -1).every((line) => line.split(",").length === 7)).toBe(true);
    expect(existsSync(`${csv}.tmp`)).toBe(false);
    expect(server.answered).toBeGreaterThanOrEqual(2);
  });
});

describe("`pnpm start:offline` (node src/offline.ts)", () => {
  it("runs the pump against the stand-in of etc/offline.conf and writes ./Data/TarkovData.csv", async () => {
    const started = Date.now();
    const csv = join(here, "Data", "TarkovData.csv");
    const child = pump(["src/offline.ts"]);
    await child.waitFor("the CSV file was written", () => existsSync(csv) && statSync(csv).mtimeMs >= started - 1000 && child.stdout.includes("Moonshine"));
    expect(child.stderr).toContain("tarkov-tools GraphQL API stand-in (recorded answer, not the real API): http://127.0.0.1:8703/graphql");
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(readFileSync(csv, "utf8").startsWith(`${HEADER}\nBooze generator level 1,Moonshine,`)).toBe(true);
  });
});

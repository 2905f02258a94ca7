import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFile, logging, Pipeline, PumpApplication, RunOnceTrigger, Sink, StdJsonToDictParser, type Context, type LogRecord } from "@pump/core";
import { describe, expect, it } from "vitest";
import { LoadSource } from "../src/pipeline.ts";
import { startStandIn, type StandIn } from "../src/stand-in.ts";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();

async function standIn(apiKey?: string): Promise<StandIn> {
  const server = await startStandIn({ apiKey });
  defer(() => server.close());
  return server;
}

const pump = pumpsIn(here);

type Weather = { name: string; main: { temp: number } };

class Collect extends Sink<Weather> {
  readonly events: [Context, Weather][] = [];
  process(context: Context, event: Weather): void {
    this.events.push([context, event]);
  }
}

/** One cycle of LoadSource in-process, with the given [pipeline:SamplePipeline:LoadSource] lines. */
async function oneCycle(conf: string): Promise<{ events: [Context, Weather][]; warnings: number; logs: LogRecord[] }> {
  const logs: LogRecord[] = [];
  logging.setWriter((record) => logs.push(record));
  defer(() => logging.setWriter(undefined));
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(`[pipeline:SamplePipeline:LoadSource]\n${conf}`, "test.conf") });
  const pipeline = new Pipeline(app, "SamplePipeline");
  const sink = new Collect(app, pipeline);
  pipeline.build(new LoadSource(app, pipeline).on(new RunOnceTrigger(app)), new StdJsonToDictParser<Weather>(app, pipeline), sink);
  app.pumpService.addPipeline(pipeline);
  expect(await app.run()).toBe(0);
  return { events: sink.events, warnings: pipeline.metrics.counters().warning, logs };
}

describe("LoadSource", () => {
  it("asks the real OpenWeather URL for the tutorial's cities unless configured otherwise", () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[pipeline:P:LoadSource]\napi_key=k&y", "test.conf") });
    const source = new LoadSource(app, new Pipeline(app, "P"));
    expect(source.cities).toEqual(["London", "New York", "Berlin"]);
    expect(source.url("New York")).toBe("https://api.openweathermap.org/data/2.5/weather?q=New%20York&units=metric&appid=k%26y");
  });

  it("makes one request per city in each cycle, each answer one event, in order", async () => {
    const server = await standIn("secret");
    const { events, warnings } = await oneCycle(`url=${server.url}\napi_key=secret`);
    expect(server.asked).toEqual(["London", "New York", "Berlin"]);
    expect(events.map(([context, weather]) => [context.city, weather.name, weather.main.temp])).toEqual([
      ["London", "London", 8.79],
      ["New York", "New York", -1.13],
      ["Berlin", "Berlin", 6.01],
    ]);
    expect(warnings).toBe(0);
  });

  it("skips a city the API does not know with a warning, and goes on with the others", async () => {
    const server = await standIn();
    const { events, warnings, logs } = await oneCycle(`url=${server.url}\napi_key=stand-in\ncities=Prague, Atlantis, Berlin`);
    expect(events.map(([, weather]) => weather.name)).toEqual(["Prague", "Berlin"]);
    expect(warnings).toBe(1);
    expect(logs.find((record) => record.level === "warn")?.message).toBe('No weather for Atlantis: the API answered 404: {"cod":"404","message":"city not found"}');
  });

  it("reports a wrong API key for every city, with OpenWeather's explanation", async () => {
    const server = await standIn("right");
    const { events, warnings, logs } = await oneCycle(`url=${server.url}\napi_key=wrong`);
    expect(events).toEqual([]);
    expect(warnings).toBe(3);
    expect(logs.filter((record) => record.level === "warn").map((record) => record.message)).toEqual(
      ["London", "New York", "Berlin"].map((city) => expect.stringMatching(new RegExp(`^No weather for ${city}: the API answered 401: .*Invalid API key`))),
    );
  });

  it("goes on when the API cannot be reached (the next trigger tries again)", async () => {
    const server = await standIn();
    await server.close();
    const { events, warnings, logs } = await oneCycle(`url=${server.url}\napi_key=stand-in\ncities=London`);
    expect(events).toEqual([]);
    expect(warnings).toBe(1);
    expect(logs.find((record) => record.level === "warn")?.message).toMatch(/^No weather for London: cannot reach the API: .*ECONNREFUSED/);
  });
});

describe("the pump, run as `node src/main.ts -c FILE`", () => {
  it("prints the weather of London, New York and Berlin every 5 seconds, and stops on Ctrl-C with exit code 0", async () => {
    const server = await standIn("from-conf");
    const dir = mkdtempSync(join(tmpdir(), "weather-"));
    writeFileSync(join(dir, "weather-pump.conf"), `[pipeline:SamplePipeline:LoadSource]\nurl = ${server.url}\napi_key = from-conf\n`);
    const child = pump(["src/main.ts", "-c", join(dir, "weather-pump.conf")]);
    await child.waitFor("two cycles were printed", () => (child.stdout.match(/name: '/g) ?? []).length >= 6);
    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stdout.match(/name: '[^']+'/g)!.slice(0, 6)).toEqual(["London", "New York", "Berlin", "London", "New York", "Berlin"].map((name) => `name: '${name}'`));
    // PPrintSink lays each answer out as pprint does.
    expect(child.stdout).toMatch(/weather: \[\s+\{\s+id: 802,\s+main: 'Clouds',\s+description: 'scattered clouds',\s+icon: '03n'\s+\}\s+\]/);
    expect(child.stdout).toContain("wind: { speed: 9.39, deg: 251, gust: 15.2 }");
    expect(child.stderr).not.toMatch(/WARN|ERROR/);
  });

  it("with etc/weather-pump.conf, refuses to start without OPENWEATHER_API_KEY, naming the file, line and variable", async () => {
    const child = pump(["src/main.ts", "-c", "etc/weather-pump.conf"], { OPENWEATHER_API_KEY: undefined });
    expect(await child.exit()).toBe(1);
    expect(child.stderr).toContain("etc/weather-pump.conf:5 [pipeline:SamplePipeline:LoadSource] key 'api_key': variable '${OPENWEATHER_API_KEY}' is not set in the environment");
  });
});

describe("`pnpm start:offline` (node src/offline.ts)", () => {
  it("starts the stand-in with etc/offline.conf's address and key, runs the pump against it, and stops both on SIGTERM", async () => {
    const child = pump(["src/offline.ts"]);
    await child.waitFor("a cycle was printed", () => child.stdout.includes("name: 'Berlin'"));
    expect(child.stderr).toContain("OpenWeather API stand-in (recorded answers, not the real API): http://127.0.0.1:8702/data/2.5/weather?q={city}&units=metric&appid={api_key}");
    expect(child.stdout).toContain("name: 'London'");
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(child.stderr).not.toMatch(/WARN|ERROR/);
  });
});

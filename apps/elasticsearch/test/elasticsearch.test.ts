import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";
import { startStandIn } from "@pump/app-weather/stand-in";
import { ConfigFile, PumpApplication } from "@pump/core";
import { ElasticSearchConnection, ElasticSearchSink } from "@pump/elasticsearch";
import { describeWithServer } from "@pump/test-servers/vitest";
import { describe, expect, it } from "vitest";
import { LoadSource } from "@pump/app-weather/pipeline";
import { SamplePipeline } from "../src/pipeline.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();
const pump = pumpsIn(here);

type Weather = { name: string; main: { temp: number }; sys: { country: string } };

describe("SamplePipeline", () => {
  it("is the weather pump with an ElasticSearchSink on ESConnection, writing to the configured index", () => {
    const conf = ConfigFile.parse("[connection:ESConnection]\nurl=http://127.0.0.1:9200\n[pipeline:SamplePipeline:ElasticSearchSink]\nindex=weather-pump-test", "test.conf");
    const local = new PumpApplication({ args: [], config: conf });
    local.pumpService.addConnection(new ElasticSearchConnection(local, "ESConnection"));
    const pipeline = new SamplePipeline(local, "SamplePipeline");
    expect(pipeline.locateSource("LoadSource")).toBeInstanceOf(LoadSource);
    const sink = pipeline.locateProcessor("ElasticSearchSink") as ElasticSearchSink;
    expect(sink.config.get("index")).toBe("weather-pump-test");
    // etc/weather-es.conf is the tutorial's: the index weather-pump-test.
    expect(ConfigFile.load(join(here, "etc", "weather-es.conf")).get("pipeline:SamplePipeline:ElasticSearchSink", "index")).toBe("weather-pump-test");
  });
});

describeWithServer("the pump against Elasticsearch", "ES_URL", (esUrl) => {
  const es = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(new URL(path, esUrl), { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await response.json()) as Record<string, unknown>;
  };

  it("stores the weather of London, New York and Berlin in the index every 5 seconds, and stops on Ctrl-C with exit code 0", async () => {
    const index = `weather-pump-test-${randomUUID().slice(0, 8)}`;
    defer(() => es("DELETE", `/${index}`));
    const standIn = await startStandIn({ apiKey: "es-test" });
    defer(() => standIn.close());
    const dir = mkdtempSync(join(tmpdir(), "weather-es-"));
    writeFileSync(
      join(dir, "weather-es.conf"),
      [
        "[connection:ESConnection]",
        `url=${esUrl}`,
        "[pipeline:SamplePipeline:ElasticSearchSink]",
        `index=${index}`,
        "doctype=_doc",
        "[pipeline:SamplePipeline:LoadSource]",
        `url = ${standIn.url}`,
        "api_key = es-test",
        "",
      ].join("\n"),
    );
    const child = pump(["src/main.ts", "-c", join(dir, "weather-es.conf")]);

    // Two cycles: 6 documents, once Elasticsearch has them (bounded polling: the pump's own pace).
    let count = 0;
    while (count < 6) {
      if (child.child.exitCode !== null) throw new Error(`the pump exited: ${child.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      await es("POST", `/${index}/_refresh`);
      count = Number((await es("GET", `/${index}/_count`)).count ?? 0);
    }
    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stderr).not.toMatch(/ERROR/);

    // The sink sent what it held before the pump stopped: whole cycles, three cities each.
    await es("POST", `/${index}/_refresh`);
    const found = (await es("POST", `/${index}/_search`, { size: 100 })) as { hits: { total: { value: number }; hits: { _source: Weather }[] } };
    // oxlint-disable-next-line no-underscore-dangle -- the API's field name
    const documents = found.hits.hits.map((hit) => hit._source);
    expect(documents.length % 3).toBe(0);
    const byCity = new Map(documents.map((weather) => [weather.name, weather]));
    expect([...byCity.keys()].toSorted()).toEqual(["Berlin", "London", "New York"]);
    expect(byCity.get("London")).toMatchObject({ main: { temp: 8.79 }, sys: { country: "GB" }, cod: 200 });
    expect(byCity.get("New York")).toMatchObject({ main: { temp: -1.13 }, sys: { country: "US" } });
    expect(documents.filter((weather) => weather.name === "Berlin")).toHaveLength(documents.length / 3);
  });

  it("`pnpm start:offline` runs it against the weather stand-in and the index weather-pump-test", async () => {
    const before = Number((await es("GET", "/weather-pump-test/_count")).count ?? 0);
    const child = pump(["src/offline.ts"], { ES_URL: esUrl });
    await child.waitFor("the stand-in started", () => child.stderr.includes("OpenWeather API stand-in"));
    expect(child.stderr).toContain("http://127.0.0.1:8708/data/2.5/weather?q={city}&units=metric&appid={api_key}");
    let count = before;
    while (count < before + 3) {
      if (child.child.exitCode !== null) throw new Error(`the pump exited: ${child.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      await es("POST", "/weather-pump-test/_refresh");
      count = Number((await es("GET", "/weather-pump-test/_count")).count ?? 0);
    }
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(child.stderr).not.toMatch(/ERROR/);
  });
});

import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { PackageInfo, PumpDefinition } from "../src/index.js";
import { FIXTURES, runMain, runPump, startPump, tempProject } from "./helpers.js";

const TUTORIAL = join(FIXTURES, "tutorial", "pump.yaml");
const TICKER = join(FIXTURES, "ticker.yaml");

describe("pump check", () => {
  it("exits 0 with a summary for a valid definition", async () => {
    const result = await runMain(["check", TUTORIAL]);
    expect(result).toEqual({ code: 0, stdout: `${TUTORIAL}: ok (1 pipeline, 0 connections, 0 lookups)\n`, stderr: "" });
  });

  it("exits 1 and lists every problem as file:line: path: message", async () => {
    const dir = tempProject({ "pump.yaml": "pipelines:\n  - id: P\n    sources:\n      - class: IteratorSorce\n    sink: {class: PrintSink, config: {colour: red}}\n" });
    const file = join(dir, "pump.yaml");
    const result = await runMain(["check", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n").filter(Boolean)).toEqual([
      `${file}:4: pipelines[0].sources[0].class: package '@pump/core' exports no 'IteratorSorce' (did you mean 'IteratorSource'?)`,
      `${file}:5: pipelines[0].sink.config.colour: 'PrintSink' has no config key 'colour'; 'PrintSink' has no config keys`,
    ]);
  });

  it("builds the pump with the .conf file of -c, so values its constructors refuse are found too", async () => {
    const dir = tempProject({ "pump.conf": "[pipeline:OrdersPipeline:IteratorSource]\nbatch_size = many\n" });
    const result = await runMain(["check", TUTORIAL, "-c", join(dir, "pump.conf")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${TUTORIAL}:5: pipelines[0].sources[0]: 'IteratorSource' (IteratorSource) could not be built: ${join(dir, "pump.conf")}:2 [pipeline:OrdersPipeline:IteratorSource] key 'batch_size': expected an integer (e.g. 10), got 'many'`);
  });
});

describe("pump run", () => {
  it("--print prints the normalized definition, in YAML or JSON, and does not run", async () => {
    const yaml = await runMain(["run", "--print", TUTORIAL]);
    expect(yaml.code).toBe(0);
    const printed = parse(yaml.stdout) as PumpDefinition;
    expect(printed.pipelines[0]!.processors!.map((p) => [p.package, p.class, p.id, p.config])).toEqual([
      ["@pump/core", "StdJsonToDictParser", "StdJsonToDictParser", undefined],
      ["@pump/core", "FlattenDictProcessor", "FlattenDictProcessor", { separator: "_" }],
      ["@pump/core", "StdDictToJsonParser", "StdDictToJsonParser", { compact: true }],
    ]);
    expect(printed.pipelines[0]!.sink).toEqual({ package: "@pump/core", class: "PrintSink", id: "PrintSink" });
    const json = await runMain(["run", TUTORIAL, "--print", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(printed);
    // The printed definition is a definition: it runs.
    const dir = tempProject({ "printed.yaml": yaml.stdout });
    const again = await runPump(["run", join(dir, "printed.yaml")]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split("\n").filter(Boolean)).toHaveLength(3);
  });

  it("-c FILE overrides the definition's config", async () => {
    const dir = tempProject({ "pump.conf": "[pipeline:OrdersPipeline:FlattenDictProcessor]\nseparator = /\n" });
    const result = await runPump(["run", TUTORIAL, "-c", join(dir, "pump.conf")]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe('{"id":1,"customer/name":"Ann","customer/city":"Brno","lines":2,"total":12.5}');
  });

  it("runs until SIGINT, then stops in order with exit code 0; ${VAR} comes from the environment", async () => {
    const pump = startPump(["run", TICKER], { env: { ...process.env, WORD: "hello" } });
    await pump.until((output) => output.stdout.split("\n").filter((line) => line === "hello").length >= 3);
    pump.child.kill("SIGINT");
    expect(await pump.exit()).toBe(0);
    expect(pump.output.stderr).toMatch(/1 pipeline ready/);
    expect(pump.output.stderr).toMatch(/Stopping.*SIGINT/);
    expect(pump.output.stdout).toMatch(/^hello\nagain\n/);
  });

  it("a variable that is not set stops it before anything starts", async () => {
    const env = { ...process.env };
    delete env.WORD;
    const result = await runPump(["run", TICKER], { env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`${TICKER}:6: pipelines[0].sources[0].args[0][0]: variable '\${WORD}' is not set in the environment`);
  });

  it("-w ADDR serves the web API of the running pump", async () => {
    const pump = startPump(["run", TICKER, "-w", "127.0.0.1:0"], { env: { ...process.env, WORD: "web" } });
    const listening = /Web API listening url="?(http:\/\/[\d.]+:\d+)/;
    await pump.until((output) => listening.test(output.stderr));
    const url = listening.exec(pump.output.stderr)![1]!;
    const response = await fetch(`${url}/bspump/v1/pipelines/TickerPipeline`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as { Id: string; Sources: { Class: string }[] };
    expect(view.Id).toBe("TickerPipeline");
    expect(view.Sources[0]!.Class).toBe("IteratorSource");
    pump.child.kill("SIGTERM");
    expect(await pump.exit()).toBe(0);
  });
});

describe("pump list", () => {
  it("lists the components of @pump/core and of the project's @pump/* packages with their config keys", async () => {
    const dir = tempProject({
      "node_modules/@pump/extra/package.json": JSON.stringify({ name: "@pump/extra", version: "2.0.0", type: "module", exports: { ".": { import: "./index.js" } } }),
      "node_modules/@pump/extra/index.js": "export { Processor } from '@pump/core';\n",
      "node_modules/@pump/tsconfig/package.json": JSON.stringify({ name: "@pump/tsconfig", version: "0.0.0" }),
    });
    const text = await runMain(["list", dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^@pump\/core \d+\.\d+\.\d+ {2}\(/);
    expect(text.stdout).toMatch(/\n {2}IteratorSource +TriggerSource +args: \[iterable\]\n {6}batch_size: 1000\n/);
    expect(text.stdout).toMatch(/\n {2}PeriodicTrigger +Trigger +args: \[interval\]\n/);
    expect(text.stdout).toMatch(/\n {2}FlattenDictProcessor +Processor\n {6}separator: "\."\n/);
    expect(text.stdout).toMatch(/\n {2}PrintSink +Sink\n/);
    // @pump/extra cannot import @pump/core from its folder: that is said, and the listing goes on.
    expect(text.stdout).toMatch(/\n@pump\/extra 2\.0\.0 {2}\(.*\)\n {2}cannot be imported: /);
    expect(text.stdout).not.toContain("@pump/tsconfig");

    const json = await runMain(["list", "--json", dir]);
    const packages = JSON.parse(json.stdout) as PackageInfo[];
    const core = packages.find((p) => p.package === "@pump/core")!;
    expect(core.components.find((c) => c.class === "Aggregator")).toEqual({
      class: "Aggregator",
      kind: "generator",
      triggerSource: false,
      args: [],
      connection: false,
      config: { completion_size: 10, completion_timeout: 0, completion_interval: 0 },
    });
    expect(core.components.some((c) => ["Source", "Processor", "Sink", "TriggerSource", "Trigger"].includes(c.class))).toBe(false);
  });
});

describe("the command line", () => {
  it("usage errors exit 2 with the usage; --help and --version exit 0", async () => {
    for (const args of [[], ["launch"], ["run"], ["check", "a.yaml", "b.yaml"], ["run", TUTORIAL, "--frobnicate"]]) {
      const result = await runMain(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/^pump: .*\nUsage:\n {2}pump run FILE/);
    }
    expect((await runMain(["--help"])).stdout).toMatch(/^Usage:/);
    expect((await runMain(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

import { join } from "node:path";
import { ConfigFile, type PumpApplication } from "@pump/core";
import { describe, expect, it } from "vitest";
import { createPump, DefinitionError, type DefinitionIssue } from "../src/index.js";
import type { MemoryConnection } from "./fixtures/components.ts";
import { FIXTURES, tempProject } from "./helpers.js";

const COMPONENTS = join(FIXTURES, "components.ts");

/** Writes the definition into a fresh directory and builds it. */
async function pump(text: string, options: { env?: Record<string, string>; conf?: string } = {}): Promise<PumpApplication> {
  const dir = tempProject({ "pump.yaml": text, ...(options.conf === undefined ? {} : { "pump.conf": options.conf }) });
  return createPump(join(dir, "pump.yaml"), { env: options.env ?? {}, args: options.conf === undefined ? [] : ["-c", join(dir, "pump.conf")] });
}

async function issuesOf(text: string, env: Record<string, string> = {}): Promise<DefinitionIssue[]> {
  try {
    await pump(text, { env });
  } catch (error) {
    if (error instanceof DefinitionError) return [...error.issues];
    throw error;
  }
  return [];
}

/** A definition writing `events` through the Shout processor into a MemoryConnection. */
function definition(options: { events?: string; shout?: string; connection?: string; connectionConfig?: string; extra?: string } = {}): string {
  return [
    "connections:",
    `  - {package: ${COMPONENTS}, class: MemoryConnection, id: Memory${options.connectionConfig === undefined ? "" : `, config: ${options.connectionConfig}`}}`,
    "pipelines:",
    "  - id: P",
    "    sources:",
    "      - class: IteratorSource",
    `        args: [${options.events ?? '["a", "b"]'}]`,
    "        trigger: {class: RunOnceTrigger}",
    "    processors:",
    `      - {package: ${COMPONENTS}, class: Shout${options.shout === undefined ? "" : `, config: ${options.shout}`}}`,
    ...(options.extra === undefined ? [] : [options.extra]),
    `    sink: {package: ${COMPONENTS}, class: MemorySink${options.connection === undefined ? ", connection: Memory" : options.connection}}`,
    "",
  ].join("\n");
}

async function itemsAfterRun(app: PumpApplication): Promise<unknown[]> {
  expect(await app.run()).toBe(0);
  return (app.pumpService.locateConnection("Memory") as MemoryConnection).items;
}

describe("connections", () => {
  it("a component gets the connection its 'connection' names; the service connects it", async () => {
    const app = await pump(definition());
    const connection = app.pumpService.locateConnection("Memory") as MemoryConnection;
    expect(connection.config.get("url")).toBe("memory://");
    expect(await itemsAfterRun(app)).toEqual(["A!", "B!"]);
    expect(connection.connected).toBe(true);
  });

  it("a connection that is not declared", async () => {
    const issues = await issuesOf(definition({ connection: ", connection: Memroy" }));
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [11, "pipelines[0].sink.connection", "PUMP_DEFINITION_REFERENCE", "connection 'Memroy' is not declared (did you mean 'Memory'?); declared: 'Memory'"],
    ]);
  });

  it("a component that needs a connection and is given none; one that takes none and is given one", async () => {
    const issues = await issuesOf(definition({ connection: "", extra: `      - {package: ${COMPONENTS}, class: Shout, id: Again, connection: Memory}` }));
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [11, "pipelines[0].processors[1].connection", "PUMP_DEFINITION_REFERENCE", "'Shout' takes no connection (its constructor's arguments after (app, pipeline): none)"],
      [12, "pipelines[0].sink", "PUMP_DEFINITION_REFERENCE", "'MemorySink' needs a connection: add 'connection: <id>' (one of 'Memory')"],
    ]);
  });

  it("lookups are built after connections and may take one", async () => {
    const text = definition().replace("pipelines:", `lookups:\n  - {package: ${COMPONENTS}, class: ItemsLookup, id: Items, connection: Memory, lazy: true}\npipelines:`);
    const app = await pump(text);
    const lookup = app.pumpService.locateLookup("Items");
    expect(lookup.lazy).toBe(true);
    await itemsAfterRun(app);
    expect(lookup.get("1" as never)).toBe("B!");
  });
});

describe("config", () => {
  it("the definition's config overrides the defaults, and a .conf file overrides the definition", async () => {
    const app = await pump(definition({ shout: "{suffix: '?', repeat: 2}", connectionConfig: "{capacity: 5}" }), {
      conf: "[pipeline:P:Shout]\nsuffix = !\n[connection:Memory]\nurl = memory://conf\n",
    });
    expect(app.config).toBeInstanceOf(ConfigFile);
    const connection = app.pumpService.locateConnection("Memory") as MemoryConnection;
    expect([connection.config.get("url"), connection.config.getInt("capacity")]).toEqual(["memory://conf", 5]);
    expect(await itemsAfterRun(app)).toEqual(["A!!", "B!!"]);
  });

  it("${VAR} in config values and args is read from the environment; $$ is a dollar; ${THIS_DIR} the definition's folder", async () => {
    const app = await pump(definition({ shout: "{suffix: '${SUFFIX}$$', repeat: '${REPEAT}'}", events: '["${GREETING}", "${THIS_DIR}"]' }), {
      env: { SUFFIX: "~", REPEAT: "2", GREETING: "hi" },
    });
    const items = await itemsAfterRun(app);
    expect(items[0]).toBe("HI~$~$");
    expect(String(items[1])).toMatch(/^\/TMP\/PUMP-CLI-.*~\$~\$$/);
  });

  it("a variable that is not set, and one whose value does not fit the key", async () => {
    const issues = await issuesOf(definition({ shout: "{suffix: '${SUFFIX}', repeat: '${REPEAT}'}" }), { REPEAT: "twice" });
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [10, "pipelines[0].processors[0].config.suffix", "PUMP_DEFINITION_ENV", "variable '${SUFFIX}' is not set in the environment"],
      [10, "pipelines[0].processors[0].config.repeat", "PUMP_DEFINITION_CONFIG", "'Shout' config key 'repeat' takes a number (its default is 1), got 'twice'"],
    ]);
  });
});

describe("building", () => {
  it("a constructor that refuses its arguments or config is reported at its entry", async () => {
    const issues = await issuesOf(
      [
        "pipelines:",
        "  - id: P",
        "    sources:",
        "      - class: IteratorSource",
        "        args: [[]]",
        "        trigger: {class: PeriodicTrigger, args: [-1]}",
        "    processors:",
        "      - class: Aggregator",
        "        config: {completion_size: 0}",
        "    sink: {class: NullSink}",
        "",
      ].join("\n"),
    );
    expect(issues.map((i) => [i.line, i.path, i.code])).toEqual([
      [6, "pipelines[0].sources[0].trigger", "PUMP_DEFINITION_BUILD"],
      [8, "pipelines[0].processors[0]", "PUMP_DEFINITION_BUILD"],
    ]);
    expect(issues[0]!.message).toBe("trigger PeriodicTrigger could not be built: PeriodicTrigger interval must be a positive number of seconds up to 2147483.647 (use a CronTrigger for longer), got -1");
    expect(issues[1]!.message).toBe("'Aggregator' (Aggregator) could not be built: [pipeline:P:Aggregator] key 'completion_size': completion_size must be at least 1, got 0");
  });

  it("a pipeline class gives the pipeline its behaviour (here: soft errors)", async () => {
    const text = definition({ events: '["a", "boom", "b"]', extra: `      - {package: ${COMPONENTS}, class: Fussy}` }).replace("  - id: P\n", `  - id: P\n    package: ${COMPONENTS}\n    class: LenientPipeline\n`);
    const app = await pump(text);
    expect(app.pumpService.pipelines.get("P")?.constructor.name).toBe("LenientPipeline");
    expect(await itemsAfterRun(app)).toEqual(["A!", "B!"]);
    expect(app.pumpService.pipelines.get("P")?.metrics.warning).toBe(1);
  });

  it("a pipeline class that builds its own components cannot take the definition's", async () => {
    const text = definition().replace("  - id: P\n", `  - id: P\n    package: ${COMPONENTS}\n    class: BuiltInPipeline\n`);
    const issues = await issuesOf(text);
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [4, "pipelines[0]", "PUMP_DEFINITION_BUILD", "pipeline class 'BuiltInPipeline' builds its own components in its constructor; a definition's pipeline class must leave that to the definition (keep only its behaviour, e.g. handleError)"],
    ]);
  });
});

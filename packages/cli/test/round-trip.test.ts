import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfigFile,
  FlattenDictProcessor,
  IteratorSource,
  PeriodicTrigger,
  Pipeline,
  PumpApplication,
  RunOnceTrigger,
  StdDictToJsonParser,
  StdJsonToDictParser,
  CronTrigger,
  type AnyProcessor,
} from "@pump/core";
import { describe, expect, it } from "vitest";
import { createPump, DefinitionError, definitionOf, loadDefinition, buildPump, stringifyDefinition, type PumpDefinition } from "../src/index.js";
import { ItemsLookup, LenientPipeline, MemoryConnection, MemorySink, Prefix, Shout } from "./fixtures/components.ts";
import { FIXTURES, tempProject } from "./helpers.js";

const PACKAGES = { MemoryConnection: "./components.ts", MemorySink: "./components.ts", Shout: "./components.ts", Prefix: "./components.ts", ItemsLookup: "./components.ts", LenientPipeline: "./components.ts" };

/** A pump built in code: a connection, a lookup on it, and a pipeline of core and project components. */
function buildInCode(app: PumpApplication): void {
  const memory = app.pumpService.addConnection(new MemoryConnection(app, "Memory", { config: { capacity: 7 } }));
  app.pumpService.addLookup(new ItemsLookup(app, memory, { id: "Items", lazy: true }));
  const pipeline = new LenientPipeline(app, "Orders", { config: { async_concurrency_limit: 10 } });
  pipeline.build(
    new IteratorSource(app, pipeline, ['{"who": {"name": "ann"}}', '{"who": {"name": "bob"}}'], { config: { batch_size: 1 } }).on(new RunOnceTrigger(app)),
    new StdJsonToDictParser(app, pipeline),
    new FlattenDictProcessor(app, pipeline, { config: { separator: "_" } }),
    new StdDictToJsonParser(app, pipeline, { config: { compact: true } }),
    new Prefix(app, pipeline, "order:"),
    new Shout(app, pipeline, { config: { suffix: "!", repeat: 2 } }), // suffix "!" is the default: not written
    new MemorySink(app, pipeline, memory),
  );
  app.pumpService.addPipeline(pipeline);
}

const EXPECTED: PumpDefinition = {
  connections: [{ package: "./components.ts", class: "MemoryConnection", id: "Memory", config: { capacity: 7 } }],
  lookups: [{ package: "./components.ts", class: "ItemsLookup", id: "Items", connection: "Memory", lazy: true }],
  pipelines: [
    {
      id: "Orders",
      package: "./components.ts",
      class: "LenientPipeline",
      config: { async_concurrency_limit: 10 },
      sources: [
        {
          package: "@pump/core",
          class: "IteratorSource",
          id: "IteratorSource",
          args: [['{"who": {"name": "ann"}}', '{"who": {"name": "bob"}}']],
          config: { batch_size: 1 },
          trigger: { package: "@pump/core", class: "RunOnceTrigger" },
        },
      ],
      processors: [
        { package: "@pump/core", class: "StdJsonToDictParser", id: "StdJsonToDictParser" },
        { package: "@pump/core", class: "FlattenDictProcessor", id: "FlattenDictProcessor", config: { separator: "_" } },
        { package: "@pump/core", class: "StdDictToJsonParser", id: "StdDictToJsonParser", config: { compact: true } },
        { package: "./components.ts", class: "Prefix", id: "Prefix", args: ["order:"] },
        { package: "./components.ts", class: "Shout", id: "Shout", config: { repeat: 2 } },
      ],
      sink: { package: "./components.ts", class: "MemorySink", id: "MemorySink", connection: "Memory" },
    },
  ],
};

/** A pipeline of these parts, without the type checks of build() (the test mixes element types freely). */
function assemble(pipeline: Pipeline, source: IteratorSource, ...processors: AnyProcessor[]): Pipeline {
  pipeline.setSource(source);
  for (const processor of processors) pipeline.appendProcessor(processor);
  return pipeline;
}

function* numbers(): Generator<number> {
  yield 1;
}

async function itemsOf(app: PumpApplication): Promise<unknown[]> {
  expect(await app.run()).toBe(0);
  return (app.pumpService.locateConnection("Memory") as MemoryConnection).items;
}

describe("code → definition → pump", () => {
  it("a pump built in code gives its definition; loading it builds the same pump, which gives the same definition and output", async () => {
    const code = new PumpApplication({ args: [] });
    buildInCode(code);
    const definition = definitionOf(code, { packages: PACKAGES, dir: FIXTURES });
    expect(definition).toEqual(EXPECTED);

    const loaded = await createPump(definition, { dir: FIXTURES });
    expect(definitionOf(loaded, { dir: FIXTURES })).toEqual(definition);
    expect(loaded.pumpService.lookups.get("Items")?.lazy).toBe(true);

    const expected = ['ORDER: {"WHO_NAME":"ANN"}!!', 'ORDER: {"WHO_NAME":"BOB"}!!'];
    expect(await itemsOf(code)).toEqual(expected);
    expect(await itemsOf(loaded)).toEqual(expected);
  });

  it("through a file: the YAML written loads into the same pump again", async () => {
    const code = new PumpApplication({ args: [] });
    buildInCode(code);
    const file = join(FIXTURES, ".round-trip.yaml");
    writeFileSync(file, stringifyDefinition(definitionOf(code, { packages: PACKAGES, dir: FIXTURES })));
    const fromFile = await createPump(file);
    expect(definitionOf(fromFile, { dir: FIXTURES })).toEqual(EXPECTED);
    // JSON too.
    writeFileSync(`${file}.json`, stringifyDefinition(EXPECTED, "json"));
    expect(definitionOf(await createPump(`${file}.json`), { dir: FIXTURES })).toEqual(EXPECTED);
  });

  it("module paths are written relative to where the definition goes", async () => {
    const code = new PumpApplication({ args: [] });
    buildInCode(code);
    const definition = definitionOf(code, { packages: PACKAGES, dir: FIXTURES });
    const elsewhere = definitionOf(await createPump(definition, { dir: FIXTURES }), { dir: join(FIXTURES, "tutorial") });
    expect(elsewhere.connections?.[0]?.package).toBe("../components.ts");
  });

  it("a definition's entries are given back as written: ${VAR} stays, the package as named", async () => {
    const dir = tempProject({
      "pump.yaml": `pipelines:\n  - id: P\n    sources:\n      - class: IteratorSource\n        args: [["\${WORD}"]]\n        trigger: {class: RunOnceTrigger}\n    sink: {class: PrintSink, id: Out}\n`,
    });
    const loaded = await loadDefinition(join(dir, "pump.yaml"), { env: { WORD: "secret" } });
    const app = buildPump(new PumpApplication({ args: [] }), loaded);
    expect((app.pumpService.locate("P.*IteratorSource") as IteratorSource<string>).iterable).toEqual(["secret"]);
    expect(definitionOf(app).pipelines[0]).toEqual({
      id: "P",
      sources: [{ package: "@pump/core", class: "IteratorSource", id: "IteratorSource", args: [["${WORD}"]], trigger: { package: "@pump/core", class: "RunOnceTrigger" } }],
      sink: { package: "@pump/core", class: "PrintSink", id: "Out" },
    });
  });

  it("triggers built in code: their arguments and options", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "P");
    const source = new IteratorSource(app, pipeline, [1]).on(new PeriodicTrigger(app, 2.5, { id: "Every" })).on(new CronTrigger(app, "*/5 * * * *", { timezone: "Europe/Prague" }));
    assemble(pipeline, source, new Shout(app, pipeline), new MemorySink(app, pipeline, new MemoryConnection(app, "M")));
    app.pumpService.addPipeline(pipeline);
    const [entry] = definitionOf(app, { packages: PACKAGES }).pipelines[0]!.sources;
    expect(entry!.trigger).toEqual([
      { package: "@pump/core", class: "PeriodicTrigger", id: "Every", args: [2.5] },
      { package: "@pump/core", class: "CronTrigger", args: ["*/5 * * * *"], options: { timezone: "Europe/Prague" } },
    ]);
  });

  it("config from the .conf file stays in the file; a Pipeline subclass that only builds is a plain pipeline", () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.parse("[pipeline:P:FlattenDictProcessor]\nseparator = /\n") });
    class TutorialPipeline extends Pipeline {
      constructor(pump: PumpApplication, id: string) {
        super(pump, id);
        assemble(this, new IteratorSource(pump, this, [{}]).on(new RunOnceTrigger(pump)), new FlattenDictProcessor(pump, this, { config: { separator: "_" } }), new Shout(pump, this), new MemorySink(pump, this, "M"));
      }
    }
    app.pumpService.addConnection(new MemoryConnection(app, "M"));
    app.pumpService.addPipeline(new TutorialPipeline(app, "P"));
    const definition = definitionOf(app, { packages: PACKAGES });
    expect(definition.pipelines[0]!.class).toBeUndefined();
    expect(definition.pipelines[0]!.processors![0]).toEqual({ package: "@pump/core", class: "FlattenDictProcessor", id: "FlattenDictProcessor" });
  });

  it("what a definition cannot hold is reported, not guessed", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "P");
    class Local extends Shout {}
    assemble(pipeline, new IteratorSource(app, pipeline, numbers()), new Local(app, pipeline), new MemorySink(app, pipeline, new MemoryConnection(app, "M")));
    app.pumpService.addPipeline(pipeline);
    let error: unknown;
    try {
      definitionOf(app, { packages: { MemorySink: "./components.ts" } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).issues.map((i) => [i.code, i.path, i.message])).toEqual([
      ["PUMP_DEFINITION_EXPRESS", "pipelines[0].sources[0]", "constructor argument 'iterable' of 'IteratorSource' is a Generator, not plain data: a definition cannot hold it"],
      ["PUMP_DEFINITION_EXPRESS", "pipelines[0].processors[0]", `no package is known for class 'Local': give definitionOf(app, { packages: { Local: "<package or ./module.ts>" } }), or a static 'package' property on the class`],
    ]);
  });

  it("a class's static 'package' names its package", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "P");
    class Tagged extends Shout {
      static package = "@acme/tagged";
    }
    assemble(pipeline, new IteratorSource(app, pipeline, []), new Tagged(app, pipeline), new MemorySink(app, pipeline, new MemoryConnection(app, "M")));
    app.pumpService.addPipeline(pipeline);
    expect(definitionOf(app, { packages: { MemorySink: "./components.ts" }, dir: FIXTURES }).pipelines[0]!.processors).toEqual([{ package: "@acme/tagged", class: "Tagged", id: "Tagged" }]);
  });
});

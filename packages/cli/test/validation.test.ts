import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DefinitionError, loadDefinition, createPump, type DefinitionIssue } from "../src/index.js";
import { tempProject } from "./helpers.js";

/** Loads `text` from a file named `name` (and builds it); the problems found, or [] when it is fine. */
async function issuesOf(text: string, options: { name?: string; env?: Record<string, string> } = {}): Promise<DefinitionIssue[]> {
  const dir = tempProject({ [options.name ?? "pump.yaml"]: text });
  try {
    await createPump(join(dir, options.name ?? "pump.yaml"), { env: options.env ?? {} });
    return [];
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    return [...error.issues];
  }
}

/** The one problem found. */
async function issueOf(text: string, options?: { name?: string; env?: Record<string, string> }): Promise<DefinitionIssue> {
  const issues = await issuesOf(text, options);
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
  return issues[0]!;
}

const SOURCE = `      - class: IteratorSource
        args: [["a"]]
        trigger: {class: RunOnceTrigger}`;

describe("definition files", () => {
  it("a valid definition loads, and its problems are reported with file, line and path", async () => {
    expect(await issuesOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    sink: {class: NullSink}\n`)).toEqual([]);
    const issue = await issueOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    sink: {class: NullSink, colour: blue}\n`);
    expect(issue.file).toMatch(/pump\.yaml$/);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_KEY", path: "pipelines[0].sink.colour", line: 7 });
    expect(new DefinitionError([issue]).message).toContain(`${issue.file}:7: pipelines[0].sink.colour: unknown key 'colour' in a sink`);
  });

  it("YAML syntax errors name the line", async () => {
    const issues = await issuesOf("pipelines:\n  - id: P\n    sources: [\n  oops: 1\n");
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue).toMatchObject({ code: "PUMP_DEFINITION_SYNTAX", path: "", line: 4 });
    expect(issues[0]!.message).toBe("not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]");
  });

  it("a key given twice is a syntax error", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    id: Q\n    sources:\n${SOURCE}\n    sink: {class: NullSink}\n`);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_SYNTAX", line: 3 });
    expect(issue.message).toMatch(/unique/i);
  });

  it("JSON files are read as JSON, their syntax errors with the line", async () => {
    const good = JSON.stringify({ pipelines: [{ id: "P", sources: [{ class: "IteratorSource", args: [["a"]], trigger: { class: "RunOnceTrigger" } }], sink: { class: "NullSink" } }] }, null, 2);
    expect(await issuesOf(good, { name: "pump.json" })).toEqual([]);
    const issue = await issueOf('{\n  "pipelines": [\n    {"id": "P",}\n  ]\n}\n', { name: "pump.json" });
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_SYNTAX", line: 3 });
    expect(issue.message).toMatch(/^not valid JSON: /);
    // Positions in JSON files are known as well.
    const text = good.replace('"NullSink"', '"NullSink",\n        "colour": "blue"');
    const wrong = await issueOf(text, { name: "pump.json" });
    expect(wrong).toMatchObject({ code: "PUMP_DEFINITION_KEY", path: "pipelines[0].sink.colour", line: text.split("\n").findIndex((l) => l.includes('"colour"')) + 1 });
  });

  it("a file that cannot be read says so", async () => {
    await expect(loadDefinition("/nonexistent/pump.yaml")).rejects.toThrow(/\/nonexistent\/pump\.yaml: cannot read the definition file \(ENOENT: no such file or directory\)/);
  });
});

describe("the shape of a definition", () => {
  it("unknown keys at every level, with a suggestion", async () => {
    const issues = await issuesOf(`pipeline:\n  - id: P\n`);
    expect(issues.map((i) => [i.path, i.line, i.message])).toEqual([
      ["pipeline", 1, "unknown key 'pipeline' in a pump definition (did you mean 'pipelines'?); expected 'connections', 'lookups' and 'pipelines'"],
      ["", 1, "'pipelines' is required: the list of pipelines to run"],
    ]);
    const source = await issueOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n        triger: {class: RunOnceTrigger}\n    sink: {class: NullSink}\n`);
    expect(source).toMatchObject({ code: "PUMP_DEFINITION_KEY", path: "pipelines[0].sources[0].triger", line: 7 });
    expect(source.message).toContain("(did you mean 'trigger'?)");
    const trigger = await issueOf(`pipelines:\n  - id: P\n    sources:\n      - class: IteratorSource\n        args: [["a"]]\n        trigger: {class: PeriodicTrigger, arg: [5]}\n    sink: {class: NullSink}\n`);
    expect(trigger).toMatchObject({ path: "pipelines[0].sources[0].trigger.arg", line: 6 });
    expect(trigger.message).toBe("unknown key 'arg' in a trigger (did you mean 'args'?); expected 'package', 'class', 'id', 'args' and 'options'");
  });

  it("values of the wrong type, and required keys missing", async () => {
    const issues = await issuesOf(
      [
        "connections: {id: C}",
        "pipelines:",
        "  - id: 5",
        "    sources:",
        "      - class: IteratorSource",
        "        args: a",
        "        config: [1]",
        "        trigger: {class: RunOnceTrigger}",
        "    processors: {class: PrintSink}",
        "  - sources: []",
        "  - id: A.B",
        "    sources:",
        "      - id: NoClass",
        "    sink: {class: NullSink, config: {x: [1, 2]}}",
        "",
      ].join("\n"),
    );
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([
      [1, "connections", "expected a list of connections, got a mapping"],
      [3, "pipelines[0].id", "expected the pipeline's id (a non-empty string), got number 5"],
      [6, "pipelines[0].sources[0].args", "expected a list of constructor arguments, got the string 'a'"],
      [7, "pipelines[0].sources[0].config", "expected config as a mapping of keys to values, got a list"],
      [9, "pipelines[0].processors", "expected a list of processors, got a mapping"],
      [10, "pipelines[1]", "'id' is required: the pipeline's id"],
      [10, "pipelines[1].sources", "a pipeline needs at least one source"],
      [11, "pipelines[2].id", "pipeline id 'A.B' must not contain '.' (it separates addresses such as 'Pipeline.Processor')"],
      [13, "pipelines[2].sources[0]", "'class' is required: the class of a source"],
      [14, "pipelines[2].sink.config.x", "expected a string, number or boolean for config key 'x', got a list"],
    ]);
    expect(issues.every((i) => i.code === "PUMP_DEFINITION_TYPE")).toBe(true);
  });

  it("an id used twice", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    processors:\n      - class: StdJsonToDictParser\n      - class: StdJsonToDictParser\n    sink: {class: NullSink}\n`);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_DUPLICATE", path: "pipelines[0].processors[1]", line: 9 });
    expect(issue.message).toBe("processor id 'StdJsonToDictParser' is used twice in pipeline 'P' (first at pipelines[0].processors[0]): give each its own 'id'");
  });
});

describe("components against their classes", () => {
  it("a processor after a sink", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    processors:\n      - class: PrintSink\n      - class: StdJsonToDictParser\n`);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_ORDER", path: "pipelines[0].processors[1]", line: 9 });
    expect(issue.message).toBe("'StdJsonToDictParser' comes after the sink 'PrintSink' (processors[0]): nothing may follow a sink in pipeline 'P'; a sink ends the pipeline");
    // ... and the sink of `sink:` after one in `processors`: each thing after the first sink is reported.
    const issues = await issuesOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    processors:\n      - class: PrintSink\n      - class: StdJsonToDictParser\n    sink: {class: NullSink}\n`);
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [9, "pipelines[0].processors[1]"],
      [10, "pipelines[0].sink"],
    ]);
    expect(issues[1]!.message).toBe("the sink given under 'sink' comes after the sink 'PrintSink' (processors[0]): nothing may follow a sink in pipeline 'P'; a sink ends the pipeline");
  });

  it("a pipeline that does not end in a sink; a sink as the last processor is fine", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    processors:\n      - class: StdJsonToDictParser\n`);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_ORDER", path: "pipelines[0]", line: 2 });
    expect(issue.message).toBe("pipeline 'P' does not end in a sink (its last component 'StdJsonToDictParser' is a Processor): add one under 'sink', e.g. sink: {class: PrintSink}");
    expect(await issuesOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n    processors:\n      - class: NullSink\n`)).toEqual([]);
  });

  it("a class of the wrong kind, a class the package does not export, a trigger on a source that takes none", async () => {
    const issues = await issuesOf(
      `pipelines:\n  - id: P\n    sources:\n      - class: PrintSink\n      - class: InternalSource\n        trigger: {class: PeriodicTrigger, args: [5]}\n    processors:\n      - class: IteratorSource\n      - class: StdJsonToDictParsr\n      - class: formatLine\n    sink: {class: StdJsonToDictParser}\n`,
    );
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [4, "pipelines[0].sources[0].class", "PUMP_DEFINITION_CLASS", "'PrintSink' is a Sink; a source must be a Source"],
      [6, "pipelines[0].sources[1].trigger", "PUMP_DEFINITION_CLASS", "'InternalSource' is not a TriggerSource: it takes no trigger (it produces from its own main())"],
      [8, "pipelines[0].processors[0].class", "PUMP_DEFINITION_CLASS", "'IteratorSource' is a Source; a processor must be a Processor, a Generator or a Sink"],
      [9, "pipelines[0].processors[1].class", "PUMP_DEFINITION_CLASS", "package '@pump/core' exports no 'StdJsonToDictParsr' (did you mean 'StdJsonToDictParser'?)"],
      [10, "pipelines[0].processors[2].class", "PUMP_DEFINITION_CLASS", "package '@pump/core' exports 'formatLine', but it is not a class"],
      [11, "pipelines[0].sink.class", "PUMP_DEFINITION_CLASS", "'StdJsonToDictParser' is a Processor; a sink must be a Sink"],
    ]);
  });

  it("a connector's class named without its package: which package to name and install", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    sources:\n      - {class: KafkaSource, connection: Kafka}\n    sink: {class: NullSink}\n`.replace(", connection: Kafka", ""));
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_CLASS", path: "pipelines[0].sources[0].class", line: 4 });
    expect(issue.message).toBe(`package '@pump/core' exports no 'KafkaSource'; 'KafkaSource' is likely in @pump/kafka: add package: "@pump/kafka" to the entry (and install it: pnpm add @pump/kafka)`);
  });

  it("a TriggerSource without a trigger is a warning", async () => {
    const dir = tempProject({ "pump.yaml": `pipelines:\n  - id: P\n    sources:\n      - class: IteratorSource\n        args: [[]]\n    sink: {class: NullSink}\n` });
    const loaded = await loadDefinition(join(dir, "pump.yaml"));
    expect(loaded.warnings.map((w) => [w.path, w.message])).toEqual([
      ["pipelines[0].sources[0]", "'IteratorSource' is a TriggerSource without a trigger: it never runs a cycle; add e.g. trigger: {class: PeriodicTrigger, args: [5]}"],
    ]);
  });

  it("config keys come from the class's ConfigDefaults: an unknown key, with a suggestion", async () => {
    const issue = await issueOf(`pipelines:\n  - id: P\n    config: {async_concurrency_limit: 10}\n    sources:\n${SOURCE}\n        config: {batchsize: 10}\n    sink: {class: NullSink}\n`);
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_KEY", path: "pipelines[0].sources[0].config.batchsize", line: 8 });
    expect(issue.message).toBe("'IteratorSource' has no config key 'batchsize' (did you mean 'batch_size'?); its keys: 'batch_size'");
    const none = await issueOf(`pipelines:\n  - id: P\n    config: {async_concurency_limit: 10}\n    sources:\n${SOURCE}\n    sink: {class: NullSink, config: {colour: 1}}\n`.replace("async_concurency_limit: 10", "async_concurrency_limit: 10"));
    expect(none.message).toBe("'NullSink' has no config key 'colour'; 'NullSink' has no config keys");
    // Keys are case-insensitive, as in .conf files; inherited defaults count (InternalSource's queue_max_size).
    expect(await issuesOf(`pipelines:\n  - id: P\n    sources:\n${SOURCE}\n        config: {Batch_Size: 10}\n    sink: {class: NullSink}\n`)).toEqual([]);
  });

  it("config values against the type of their default: number, boolean, string", async () => {
    const issues = await issuesOf(
      [
        "pipelines:",
        "  - id: P",
        "    config: {async_concurrency_limit: lots}",
        "    sources:",
        "      - class: IteratorSource",
        "        args: [[]]",
        "        config: {batch_size: true}",
        "        trigger: {class: RunOnceTrigger}",
        "    processors:",
        "      - class: StdDictToJsonParser",
        "        config: {compact: maybe, ensure_ascii: 'no'}",
        "      - class: FlattenDictProcessor",
        "        config: {separator: false}",
        "      - class: Aggregator",
        "        config: {completion_size: '20', completion_timeout: 5m, completion_interval: 0}",
        "    sink: {class: NullSink}",
        "",
      ].join("\n"),
    );
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([
      [3, "pipelines[0].config.async_concurrency_limit", "'Pipeline' config key 'async_concurrency_limit' takes a number (its default is 1000), got 'lots'"],
      [7, "pipelines[0].sources[0].config.batch_size", "'IteratorSource' config key 'batch_size' takes a number (its default is 1000), got the boolean true"],
      [11, "pipelines[0].processors[0].config.compact", "'StdDictToJsonParser' config key 'compact' takes a boolean (its default is false), got 'maybe'"],
      [13, "pipelines[0].processors[1].config.separator", "'FlattenDictProcessor' config key 'separator' takes a string (its default is \".\"), got the boolean false"],
    ]);
    expect(issues.every((i) => i.code === "PUMP_DEFINITION_CONFIG")).toBe(true);
  });

  it("more constructor arguments than the class takes", async () => {
    const issues = await issuesOf(`pipelines:\n  - id: P\n    sources:\n      - class: IteratorSource\n        args: [[], 2]\n        trigger: {class: PeriodicTrigger, args: [1, 2]}\n    sink: {class: NullSink, args: [1]}\n`);
    expect(issues.map((i) => [i.line, i.path, i.code, i.message])).toEqual([
      [5, "pipelines[0].sources[0].args", "PUMP_DEFINITION_TYPE", "'IteratorSource' takes 1 argument (iterable) after (app, pipeline), got 2"],
      [6, "pipelines[0].sources[0].trigger.args", "PUMP_DEFINITION_TYPE", "'PeriodicTrigger' takes 1 argument (interval) after (app), got 2"],
      [7, "pipelines[0].sink.args", "PUMP_DEFINITION_TYPE", "'NullSink' takes no arguments after (app, pipeline), got 1"],
    ]);
  });
});

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPump, DefinitionError, type DefinitionIssue } from "../src/index.js";
import { PACKAGE_DIR, runPump, tempProject } from "./helpers.js";

const CORE_DIR = join(PACKAGE_DIR, "..", "core");

/** A project folder with @pump/core linked in and the given packages installed in node_modules. */
function project(packages: Readonly<Record<string, Readonly<Record<string, string>>>>, files: Readonly<Record<string, string>> = {}): string {
  const dir = tempProject(files);
  mkdirSync(join(dir, "node_modules", "@pump"), { recursive: true });
  symlinkSync(CORE_DIR, join(dir, "node_modules", "@pump", "core"));
  for (const [name, content] of Object.entries(packages)) {
    for (const [path, text] of Object.entries(content)) {
      const file = join(dir, "node_modules", name, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  return dir;
}

const REVERSE = {
  "package.json": JSON.stringify({ name: "@acme/pump-reverse", version: "1.2.3", type: "module", exports: { ".": { types: "./index.d.ts", import: "./index.js" } } }),
  "index.js": [
    'import { Processor } from "@pump/core";',
    "export class Reverse extends Processor {",
    "  static ConfigDefaults = { upper: false };",
    "  process(context, text) {",
    '    const reversed = [...text].reverse().join("");',
    '    return this.config.getBool("upper") ? reversed.toUpperCase() : reversed;',
    "  }",
    "}",
    "",
  ].join("\n"),
};

const BROKEN = {
  "package.json": JSON.stringify({ name: "@acme/broken", type: "module", main: "index.js" }),
  "index.js": 'throw new Error("this package must not be imported");\n',
};

function definition(pkg: string, cls = "Reverse", config = "{upper: true}"): string {
  return [
    "pipelines:",
    "  - id: P",
    "    sources:",
    "      - class: IteratorSource",
    '        args: [["abc", "pump"]]',
    "        trigger: {class: RunOnceTrigger}",
    "    processors:",
    `      - package: "${pkg}"`,
    `        class: ${cls}`,
    `        config: ${config}`,
    "    sink: {class: PrintSink}",
    "",
  ].join("\n");
}

async function issuesOf(file: string): Promise<DefinitionIssue[]> {
  try {
    await createPump(file, { env: {}, projectDir: dirname(file) });
  } catch (error) {
    if (error instanceof DefinitionError) return [...error.issues];
    throw error;
  }
  return [];
}

describe("the packages a definition names", () => {
  it("are imported from the definition's project (its node_modules, 'import' condition of exports), and only they", async () => {
    const dir = project({ "@acme/pump-reverse": REVERSE, "@acme/broken": BROKEN }, { "etc/pump.yaml": definition("@acme/pump-reverse") });
    const app = await createPump(join(dir, "etc", "pump.yaml"), { projectDir: "/" });
    const processor = app.pumpService.locate("P.Reverse");
    expect(processor?.constructor.name).toBe("Reverse");
    // As a command, from another working directory: the definition's folder decides.
    const result = await runPump(["run", join(dir, "etc", "pump.yaml")], { cwd: "/" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("CBA\nPMUP\n");
  });

  it("a package that is not installed says how to install it, once for all its uses", async () => {
    const dir = project({}, { "pump.yaml": definition("@pump/kafka", "KafkaKeyFilter").replace("    sink: {class: PrintSink}", '    sink: {package: "@pump/kafka", class: KafkaSink}') });
    const issues = await issuesOf(join(dir, "pump.yaml"));
    expect(issues.map((i) => [i.line, i.path, i.code])).toEqual([[8, "pipelines[0].processors[0].package", "PUMP_DEFINITION_PACKAGE"]]);
    expect(issues[0]!.message).toBe(`package '@pump/kafka' is not installed (no node_modules/@pump/kafka found from ${dir} up): install it in the project: pnpm add @pump/kafka (or npm install @pump/kafka)`);
    // The command prints it as file:line: path: message and exits 1.
    const result = await runPump(["check", join(dir, "pump.yaml")], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "pump.yaml")}:8: pipelines[0].processors[0].package: package '@pump/kafka' is not installed`);
    expect(result.stderr).toContain("pnpm add @pump/kafka");
  });

  it("a package that fails to import, a module path that does not exist, a class the package lacks", async () => {
    const dir = project({ "@acme/broken": BROKEN, "@acme/pump-reverse": REVERSE }, {
      "a.yaml": definition("@acme/broken"),
      "b.yaml": definition("./lib/missing.js"),
      "c.yaml": definition("@acme/pump-reverse", "Revers"),
    });
    const [a] = await issuesOf(join(dir, "a.yaml"));
    expect(a).toMatchObject({ code: "PUMP_DEFINITION_PACKAGE", path: "pipelines[0].processors[0].package" });
    expect(a!.message).toBe(`cannot import '@acme/broken' (${join(dir, "node_modules", "@acme", "broken")}): this package must not be imported`);
    const [b] = await issuesOf(join(dir, "b.yaml"));
    expect(b!.message).toBe(`module './lib/missing.js' not found (no file ${join(dir, "lib", "missing.js")})`);
    const [c] = await issuesOf(join(dir, "c.yaml"));
    expect(c).toMatchObject({ code: "PUMP_DEFINITION_CLASS", path: "pipelines[0].processors[0].class", line: 9 });
    expect(c!.message).toBe("package '@acme/pump-reverse' exports no 'Revers' (did you mean 'Reverse'?)");
  });

  it("a module of the project's own, relative to the definition", async () => {
    const dir = project({}, { "lib/reverse.js": REVERSE["index.js"], "pump.yaml": definition("./lib/reverse.js", "Reverse", "{upper: false}") });
    const result = await runPump(["run", join(dir, "pump.yaml")], { cwd: "/" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("cba\npmup\n");
  });

  it("a package built on another copy of @pump/core is named as such", async () => {
    const twin = {
      "package.json": JSON.stringify({ name: "@acme/twin", type: "module", exports: "./index.js" }),
      "index.js": 'import { Processor } from "@pump/core";\nexport class Twin extends Processor { process(c, e) { return e; } }\n',
      "node_modules/@pump/core/package.json": JSON.stringify({ name: "@pump/core", version: "0.0.1", type: "module", exports: "./index.js" }),
      "node_modules/@pump/core/index.js": "export class Processor {}\n",
    };
    const dir = project({ "@acme/twin": twin }, { "pump.yaml": definition("@acme/twin", "Twin", "{}") });
    const [issue] = await issuesOf(join(dir, "pump.yaml"));
    expect(issue).toMatchObject({ code: "PUMP_DEFINITION_CLASS", path: "pipelines[0].processors[0].class" });
    expect(issue!.message).toBe(
      `'Twin' derives from a 'Processor' of another copy of @pump/core (${join(dir, "node_modules", "@acme", "twin")} has its own): install one version of @pump/core in the project; a processor must be a Processor, a Generator or a Sink`,
    );
  });
});

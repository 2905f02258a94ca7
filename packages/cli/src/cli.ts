/**
 * The `pump` command: `pump run FILE`, `pump check FILE`, `pump list`. `main()` takes the arguments
 * and where to write, and resolves the exit code, so it runs the same from the bin and in tests.
 */
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PumpApplication, PumpError, USAGE as APP_USAGE } from "@pump/core";
import { buildPump } from "./build.js";
import { definitionOf } from "./definition-of.js";
import { DefinitionError, formatIssue, type DefinitionIssue } from "./errors.js";
import { formatComponents, listComponents } from "./list.js";
import { loadDefinition } from "./load.js";
import { stringifyDefinition } from "./stringify.js";

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const APP_LINES = APP_USAGE.split("\n");

export const USAGE = `Usage:
  pump run FILE [options]     build the pump FILE declares (YAML or JSON) and run it until SIGINT/SIGTERM
  pump check FILE [-c CONF]   validate FILE (and build it, without starting): exit 0, or 1 with every problem
  pump list [DIR] [--json]    the components of the @pump/* packages installed in this project, with their config keys
  pump --version | --help

Options of run:
${APP_LINES.filter((line) => line.startsWith("  -") && !line.includes("--help")).join("\n")}
  --print              print the normalized definition (every package, class, id and config explicit) and exit
  --json               with --print: as JSON instead of YAML
${APP_LINES.filter((line) => line.startsWith("Signals:")).join("\n")}

A definition names each component's package (default @pump/core), class, id, config, args, and for
sources a trigger: see the README of @pump/cli. Packages are found in the definition's project.`;

const STD: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

class UsageProblem extends Error {}

function parse(args: readonly string[], options: NonNullable<ParseArgsConfig["options"]>): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageProblem((error as Error).message);
  }
}

function oneFile(positionals: readonly string[], command: string): string {
  if (positionals.length !== 1) throw new UsageProblem(`'pump ${command}' takes one definition file, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
  return positionals[0]!;
}

/** The application's own command line (`-c`, `-v`, `-w`), passed on to PumpApplication. */
function applicationArgs(values: Record<string, unknown>): string[] {
  const args: string[] = [];
  if (typeof values.config === "string") args.push("-c", values.config);
  if (values.verbose === true) args.push("-v");
  if (typeof values["web-api"] === "string") args.push("-w", values["web-api"]);
  return args;
}

const APP_OPTIONS = {
  config: { type: "string", short: "c" },
  verbose: { type: "boolean", short: "v" },
  "web-api": { type: "string", short: "w" },
} as const;

function printWarnings(warnings: readonly DefinitionIssue[], out: CliOutput): void {
  for (const warning of warnings) out.stderr(`warning: ${formatIssue(warning)}\n`);
}

async function run(args: readonly string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parse(args, { ...APP_OPTIONS, print: { type: "boolean" }, json: { type: "boolean" } });
  const file = oneFile(positionals, "run");
  const loaded = await loadDefinition(file);
  printWarnings(loaded.warnings, out);
  const app = buildPump(new PumpApplication({ args: applicationArgs(values) }), loaded);
  if (values.print === true) {
    const definition = definitionOf(app, { dir: loaded.source.dir });
    out.stdout(stringifyDefinition(definition, values.json === true ? "json" : "yaml"));
    return 0;
  }
  return app.run();
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

async function check(args: readonly string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parse(args, { config: APP_OPTIONS.config });
  const file = oneFile(positionals, "check");
  const loaded = await loadDefinition(file);
  printWarnings(loaded.warnings, out);
  buildPump(new PumpApplication({ args: applicationArgs(values) }), loaded);
  const { spec } = loaded;
  out.stdout(`${file}: ok (${count(spec.pipelines.length, "pipeline")}, ${count(spec.connections.length, "connection")}, ${count(spec.lookups.length, "lookup")})\n`);
  return 0;
}

async function list(args: readonly string[], out: CliOutput): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: "boolean" } });
  if (positionals.length > 1) throw new UsageProblem("'pump list' takes at most one project directory");
  const packages = await listComponents(positionals[0] ?? process.cwd());
  out.stdout(values.json === true ? `${JSON.stringify(packages, null, 2)}\n` : formatComponents(packages));
  return 0;
}

/** Runs the `pump` command with `args` (without the program name); resolves the exit code. */
export async function main(args: readonly string[], out: CliOutput = STD): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "run":
        return await run(rest, out);
      case "check":
        return await check(rest, out);
      case "list":
        return await list(rest, out);
      case "--version":
        out.stdout(`${VERSION}\n`);
        return 0;
      case "help":
      case "--help":
      case "-h":
        out.stdout(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageProblem(command === undefined ? "no command given" : `unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageProblem) {
      out.stderr(`pump: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof DefinitionError) {
      out.stderr(`${error.issues.map(formatIssue).join("\n")}\n`);
      return 1;
    }
    if (error instanceof PumpError) {
      out.stderr(`pump: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

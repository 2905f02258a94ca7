/**
 * `pump list`: the components the project's installed `@pump/*` packages offer — each exported
 * class deriving from Source, Processor, Generator, Sink, Connection, Lookup, Trigger (or Pipeline)
 * with its constructor arguments and its config keys and defaults, from the same ConfigDefaults the
 * definition is checked against.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { PumpApplication, type ConfigValues } from "@pump/core";
import { CORE_PACKAGE } from "./definition.js";
import { BASE_CLASSES, builderFills, defaultsOf, isClass, isTriggerSource, KIND_NAMES, kindOf, positionalParameters, type ComponentKind } from "./introspect.js";
import { importPackage, resolvePackageEntry } from "./resolve.js";

export interface ComponentInfo {
  class: string;
  kind: ComponentKind;
  /** For sources: whether it runs in cycles started by triggers. */
  triggerSource: boolean;
  /** Constructor arguments a definition gives in `args` (names), undefined when unknown. */
  args: string[] | undefined;
  /** Whether it takes a `connection`. */
  connection: boolean;
  /** Its config keys and their defaults (merged down the class chain). */
  config: ConfigValues;
}

export interface PackageInfo {
  package: string;
  version: string | undefined;
  /** The package's folder (`@pump/core` for the copy this command runs on). */
  where: string;
  components: ComponentInfo[];
  /** Why it could not be imported. */
  error?: string | undefined;
}

const KIND_ORDER: readonly ComponentKind[] = ["connection", "lookup", "source", "trigger", "processor", "generator", "sink", "pipeline"];

/** `@pump/*` package names installed for the project of `dir`: its node_modules and those above it. */
export function installedPumpPackages(dir: string): string[] {
  const names = new Set<string>();
  let current = resolve(dir);
  for (;;) {
    const scope = join(current, "node_modules", "@pump");
    if (existsSync(scope)) for (const name of readdirSync(scope)) if (!name.startsWith(".")) names.add(`@pump/${name}`);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return [...names].toSorted();
}

function describeExports(exports: Readonly<Record<string, unknown>>): ComponentInfo[] {
  const components: ComponentInfo[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (!isClass(value) || BASE_CLASSES.has(value) || value === PumpApplication) continue;
    const kind = kindOf(value);
    if (kind === undefined) continue;
    const params = positionalParameters(value, kind);
    const args = params?.filter((p) => builderFills(kind, p) === undefined).map((p) => p.name);
    components.push({
      class: name,
      kind,
      triggerSource: kind === "source" && isTriggerSource(value),
      args,
      connection: params?.some((p) => builderFills(kind, p) === "connection") === true,
      config: defaultsOf(value),
    });
  }
  return components.toSorted((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.class.localeCompare(b.class));
}

function versionOf(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The components of @pump/core and of every `@pump/*` package installed for the project of `dir`. */
export async function listComponents(dir: string = process.cwd()): Promise<PackageInfo[]> {
  const result: PackageInfo[] = [];
  const coreDir = dirname(createRequire(import.meta.url).resolve(`${CORE_PACKAGE}/package.json`));
  const core = await importPackage(CORE_PACKAGE, [dir]);
  if (core.ok) result.push({ package: CORE_PACKAGE, version: versionOf(coreDir), where: coreDir, components: describeExports(core.exports) });
  for (const name of installedPumpPackages(dir)) {
    if (name === CORE_PACKAGE) continue;
    const entry = resolvePackageEntry(name, dir);
    // Packages without code (shared tsconfig, tooling) have nothing to list.
    if (entry === undefined || !existsSync(entry.file)) continue;
    const imported = await importPackage(name, [dir]);
    if (!imported.ok) {
      result.push({ package: name, version: versionOf(entry.packageDir), where: entry.packageDir, components: [], error: imported.message });
      continue;
    }
    const components = describeExports(imported.exports);
    if (components.length > 0) result.push({ package: name, version: versionOf(entry.packageDir), where: entry.packageDir, components });
  }
  return result;
}

function formatValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The listing as text: one block per package, one line per component, its config keys below it. */
export function formatComponents(packages: readonly PackageInfo[]): string {
  const lines: string[] = [];
  for (const info of packages) {
    lines.push(`${info.package}${info.version === undefined ? "" : ` ${info.version}`}  (${info.where})`);
    if (info.error !== undefined) lines.push(`  cannot be imported: ${info.error}`);
    for (const component of info.components) {
      const kind = component.triggerSource ? "TriggerSource" : KIND_NAMES[component.kind];
      const takes: string[] = [];
      if (component.connection) takes.push("connection");
      if (component.args !== undefined && component.args.length > 0) takes.push(`args: [${component.args.join(", ")}]`);
      lines.push(`  ${component.class.padEnd(30)} ${kind.padEnd(13)}${takes.length === 0 ? "" : ` ${takes.join("; ")}`}`.trimEnd());
      for (const [key, value] of Object.entries(component.config)) lines.push(`      ${key}: ${formatValue(value)}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

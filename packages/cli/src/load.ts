/**
 * Loading a definition: the shape pass, then the packages it names are imported and each entry is
 * checked against its class (kind, place in the pipeline, config keys and value types from the
 * class's ConfigDefaults, constructor arguments and connection), and `${VAR}` is read. Every problem
 * of every pass is reported together. A loaded definition builds a pump with `buildPump`.
 */
import { Pipeline, type ConfigValue } from "@pump/core";
import { CORE_PACKAGE } from "./definition.js";
import { DefinitionError, type DefinitionIssue } from "./errors.js";
import { interpolateValue, type InterpolationScope } from "./interpolate.js";
import {
  builderFills,
  configValueProblem,
  defaultsOf,
  foreignBase,
  isClass,
  isTriggerSource,
  KIND_NAMES,
  kindOf,
  LEADING,
  positionalParameters,
  type ComponentKind,
  type Parameter,
} from "./introspect.js";
import { importPackage, isModulePath, type ModuleExports } from "./resolve.js";
import { checkShape, IssueCollector, type ClassSpec, type ComponentSpec, type PumpSpec } from "./shape.js";
import { readDefinitionFile, sourceFromData, type DefinitionSource, type Path } from "./source-file.js";
import { didYouMean, listed } from "./suggest.js";

export interface LoadOptions {
  /** Where `${VAR}` is read from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The project whose packages are used when the definition's directory has none; the working directory by default. */
  projectDir?: string | undefined;
  /** For a definition given as data: where its module paths and packages are resolved from (the working directory by default). */
  dir?: string | undefined;
}

/** A class of the definition, imported and checked. */
export interface ResolvedClass {
  readonly ctor: new (...args: unknown[]) => unknown;
  readonly kind: ComponentKind;
  /** The package as the definition wrote it (`@pump/core` when it did not). */
  readonly package: string;
  /** Where it was imported from: a package folder, a module file, or `@pump/core`. */
  readonly where: string;
  /** The constructor's positional parameters between the leading ones and the options; undefined if unknown. */
  readonly parameters: readonly Parameter[] | undefined;
}

/** A definition that passed every check: what `buildPump` builds from. */
export interface LoadedDefinition {
  readonly source: DefinitionSource;
  /** As written (values not interpolated), defaults filled in. */
  readonly spec: PumpSpec;
  readonly classes: ReadonlyMap<ClassSpec, ResolvedClass>;
  /** Values with `${VAR}` read, by the path of the entry's config, args or trigger options. */
  readonly values: ReadonlyMap<object, unknown>;
  /** Things that are allowed but probably not meant (a TriggerSource without a trigger). */
  readonly warnings: readonly DefinitionIssue[];
}

function sortIssues(issues: DefinitionIssue[]): DefinitionIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .toSorted((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.index - b.index)
    .map(({ issue }) => issue);
}

/** Every class the spec names, with where it is named and which kinds it may be. */
function classUses(spec: PumpSpec): [ClassSpec, readonly ComponentKind[], string][] {
  const uses: [ClassSpec, readonly ComponentKind[], string][] = [];
  for (const c of spec.connections) uses.push([c, ["connection"], "a connection"]);
  for (const l of spec.lookups) uses.push([l, ["lookup"], "a lookup"]);
  for (const p of spec.pipelines) {
    if (p.class !== undefined) uses.push([p.class, ["pipeline"], "a pipeline"]);
    for (const s of p.sources) {
      uses.push([s, ["source"], "a source"]);
      for (const t of s.triggers) uses.push([t, ["trigger"], "a trigger"]);
    }
    for (const c of p.chain) uses.push([c, c === p.sinkEntry ? ["sink"] : ["processor", "generator", "sink"], c === p.sinkEntry ? "a sink" : "a processor"]);
  }
  return uses;
}

function describeKinds(kinds: readonly ComponentKind[]): string {
  const names = kinds.map((kind) => KIND_NAMES[kind]);
  return names.length === 1 ? `a ${names[0]}` : `a ${names.slice(0, -1).join(", a ")} or a ${names.at(-1)}`;
}

function packagePath(use: ClassSpec, source: DefinitionSource): Path {
  // Point at `package:` when written, else at the entry.
  const data = getAt(source.data, use.path);
  return data !== null && typeof data === "object" && "package" in data ? [...use.path, "package"] : use.path;
}

function getAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** The technology packages of @pump, by the prefix their class names start with. */
const TECHNOLOGIES = ["kafka", "elasticsearch", "amqp", "file", "http", "influxdb", "mysql", "ftp"];

/** For a class not in @pump/core whose name starts like a connector's (KafkaSource): which package it is likely in. */
function packageHint(use: ClassSpec): string {
  if (use.package !== CORE_PACKAGE) return "";
  const technology = TECHNOLOGIES.find((name) => use.class.toLowerCase().startsWith(name));
  if (technology === undefined) return "";
  return `; '${use.class}' is likely in @pump/${technology}: add package: "@pump/${technology}" to the entry (and install it: pnpm add @pump/${technology})`;
}

/** Imports the packages and finds the classes; reports what is missing or of the wrong kind. */
async function resolveClasses(spec: PumpSpec, out: IssueCollector, dirs: readonly string[]): Promise<Map<ClassSpec, ResolvedClass>> {
  const resolved = new Map<ClassSpec, ResolvedClass>();
  const reported = new Set<string>();
  for (const [use, kinds, what] of classUses(spec)) {
    const imported = await importPackage(use.package, dirs);
    if (!imported.ok) {
      if (!reported.has(use.package)) {
        reported.add(use.package);
        out.add("PUMP_DEFINITION_PACKAGE", packagePath(use, spec.source), `${imported.message}`);
      }
      continue;
    }
    const exports: ModuleExports = imported.exports;
    const ctor = exports[use.class];
    if (ctor === undefined || !isClass(ctor)) {
      const classes = Object.keys(exports).filter((name) => isClass(exports[name]));
      const which = isModulePath(use.package) ? `module '${use.package}'` : `package '${use.package}'`;
      const why = ctor === undefined ? `exports no '${use.class}'` : `exports '${use.class}', but it is not a class`;
      const suggestion = didYouMean(use.class, classes) || packageHint(use);
      out.add("PUMP_DEFINITION_CLASS", [...use.path, "class"], `${which} ${why}${suggestion}`);
      continue;
    }
    const kind = kindOf(ctor);
    if (kind === undefined || !kinds.includes(kind)) {
      const foreign = kind === undefined ? foreignBase(ctor) : undefined;
      const is = kind !== undefined ? `is a ${KIND_NAMES[kind]}` : foreign !== undefined ? `derives from a '${foreign}' of another copy of @pump/core (${imported.where} has its own): install one version of @pump/core in the project` : "is not a @pump component";
      out.add("PUMP_DEFINITION_CLASS", [...use.path, "class"], `'${use.class}' ${is}; ${what} must be ${describeKinds(kinds)}`);
      continue;
    }
    const parameters = positionalParameters(ctor, kind);
    resolved.set(use, { ctor: ctor as ResolvedClass["ctor"], kind, package: use.package, where: imported.where, parameters });
  }
  return resolved;
}

/** Something after a sink; no sink at the end; triggers on sources that take none. */
function checkPipelines(spec: PumpSpec, classes: Map<ClassSpec, ResolvedClass>, out: IssueCollector, warnings: IssueCollector): void {
  for (const pipeline of spec.pipelines) {
    const sinkIndex = pipeline.chain.findIndex((c) => classes.get(c)?.kind === "sink");
    if (sinkIndex >= 0) {
      const sink = pipeline.chain[sinkIndex]!;
      for (const after of pipeline.chain.slice(sinkIndex + 1)) {
        const where = after === pipeline.sinkEntry ? "the sink given under 'sink'" : `'${after.class}'`;
        out.add(
          "PUMP_DEFINITION_ORDER",
          after.path,
          `${where} comes after the sink '${sink.id}' (${formatRelative(sink.path, pipeline.path)}): nothing may follow a sink in pipeline '${pipeline.id}'; a sink ends the pipeline`,
        );
      }
    } else if (pipeline.chain.every((c) => classes.has(c))) {
      const last = pipeline.chain.at(-1);
      const why = last === undefined ? "it has no processors and no sink" : `its last component '${last.id}' is a ${KIND_NAMES[classes.get(last)!.kind]}`;
      out.add("PUMP_DEFINITION_ORDER", pipeline.path, `pipeline '${pipeline.id}' does not end in a sink (${why}): add one under 'sink', e.g. sink: {class: PrintSink}`);
    }
    for (const source of pipeline.sources) {
      const cls = classes.get(source);
      if (cls === undefined) continue;
      if (!isTriggerSource(cls.ctor) && source.triggers.length > 0) {
        out.add("PUMP_DEFINITION_CLASS", [...source.path, "trigger"], `'${source.class}' is not a TriggerSource: it takes no trigger (it produces from its own main())`, true);
      } else if (isTriggerSource(cls.ctor) && source.triggers.length === 0) {
        warnings.add("PUMP_DEFINITION_REFERENCE", source.path, `'${source.class}' is a TriggerSource without a trigger: it never runs a cycle; add e.g. trigger: {class: PeriodicTrigger, args: [5]}`);
      }
    }
  }
}

function formatRelative(path: Path, base: Path): string {
  return path.slice(base.length).map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/** Config keys against the class's ConfigDefaults, after `${VAR}`. */
function checkConfig(path: Path, className: string, ctor: unknown, config: Readonly<Record<string, ConfigValue>>, values: Record<string, ConfigValue>, out: IssueCollector): void {
  const defaults = defaultsOf(ctor);
  const byLower = new Map(Object.keys(defaults).map((key) => [key.toLowerCase(), key]));
  for (const key of Object.keys(config)) {
    const known = byLower.get(key.toLowerCase());
    if (known === undefined) {
      const keys = Object.keys(defaults);
      const has = keys.length === 0 ? `'${className}' has no config keys` : `its keys: ${listed(keys)}`;
      out.add("PUMP_DEFINITION_KEY", [...path, "config", key], `'${className}' has no config key '${key}'${didYouMean(key, keys)}; ${has}`, true);
      continue;
    }
    const value = values[key]!;
    const expected = configValueProblem(value, defaults[known]!);
    if (expected !== undefined) {
      const got = typeof value === "string" ? `'${value}'` : `the ${typeof value} ${String(value)}`;
      out.add("PUMP_DEFINITION_CONFIG", [...path, "config", key], `'${className}' config key '${known}' takes ${expected}, got ${got}`);
    }
  }
}

/** `args` and `connection` against the constructor's parameters. */
function checkArguments(component: ComponentSpec | ClassSpec & { args: readonly unknown[] }, cls: ResolvedClass, out: IssueCollector, connections: readonly string[]): void {
  const params = cls.parameters;
  if (params === undefined) return;
  const connection = "connection" in component ? component.connection : undefined;
  const takesConnection = params.find((p) => builderFills(cls.kind, p) === "connection");
  const slots = params.filter((p) => builderFills(cls.kind, p) === undefined);
  const leading = LEADING[cls.kind] === 2 ? "(app, pipeline)" : "(app)";
  if (connection !== undefined && takesConnection === undefined) {
    out.add("PUMP_DEFINITION_REFERENCE", [...component.path, "connection"], `'${component.class}' takes no connection (its constructor's arguments after ${leading}: ${slots.length === 0 ? "none" : listed(slots.map((p) => p.name))})`);
  }
  if (connection === undefined && takesConnection !== undefined && !takesConnection.optional) {
    const known = connections.length === 0 ? "declare one under 'connections'" : `one of ${listed([...connections])}`;
    out.add("PUMP_DEFINITION_REFERENCE", component.path, `'${component.class}' needs a connection: add 'connection: <id>' (${known})`);
  }
  if (component.args.length > slots.length) {
    const takes = slots.length === 0 ? "no arguments" : `${slots.length} argument${slots.length === 1 ? "" : "s"} (${slots.map((p) => p.name).join(", ")})`;
    out.add("PUMP_DEFINITION_TYPE", [...component.path, "args"], `'${component.class}' takes ${takes} after ${leading}${takesConnection === undefined ? "" : " besides its connection"}, got ${component.args.length}`);
  }
}

/** The shape pass, then the class pass; everything found is reported together. */
export async function loadDefinition(input: string | object, options: LoadOptions = {}): Promise<LoadedDefinition> {
  let source: DefinitionSource;
  if (typeof input === "string") {
    const read = readDefinitionFile(input);
    if (Array.isArray(read)) throw new DefinitionError(read);
    source = read;
  } else {
    source = sourceFromData(input, options.dir);
  }
  const out = new IssueCollector(source);
  const warnings = new IssueCollector(source);
  const spec = checkShape(out);
  const dirs = [...new Set([source.dir, options.projectDir ?? process.cwd()])];
  const classes = await resolveClasses(spec, out, dirs);
  checkPipelines(spec, classes, out, warnings);

  const scope: InterpolationScope = { env: options.env ?? process.env, dir: source.dir };
  const values = new Map<object, unknown>();
  const interpolate = (path: Path, value: object): unknown => {
    const result = interpolateValue(value, scope, (below, message) => out.add("PUMP_DEFINITION_ENV", [...path, ...below], message));
    values.set(value, result);
    return result;
  };
  const declared = spec.connections.map((c) => c.id);
  const components: ComponentSpec[] = [...spec.connections, ...spec.lookups, ...spec.pipelines.flatMap((p) => [...p.sources, ...p.chain])];
  for (const component of components) {
    const config = interpolate([...component.path, "config"], component.config) as Record<string, ConfigValue>;
    interpolate([...component.path, "args"], component.args);
    const cls = classes.get(component);
    if (cls === undefined) continue;
    checkConfig(component.path, component.class, cls.ctor, component.config, config, out);
    checkArguments(component, cls, out, declared);
  }
  for (const pipeline of spec.pipelines) {
    const config = interpolate([...pipeline.path, "config"], pipeline.config) as Record<string, ConfigValue>;
    const cls = pipeline.class === undefined ? undefined : classes.get(pipeline.class);
    if (pipeline.class === undefined || cls !== undefined) {
      checkConfig(pipeline.path, pipeline.class?.class ?? "Pipeline", cls?.ctor ?? Pipeline, pipeline.config, config, out);
    }
    for (const trigger of pipeline.sources.flatMap((s) => s.triggers)) {
      interpolate([...trigger.path, "args"], trigger.args);
      interpolate([...trigger.path, "options"], trigger.options);
      const triggerClass = classes.get(trigger);
      if (triggerClass !== undefined) checkArguments(trigger, triggerClass, out, declared);
    }
  }
  if (out.issues.length > 0) throw new DefinitionError(sortIssues(out.issues));
  return { source, spec, classes, values, warnings: sortIssues(warnings.issues) };
}

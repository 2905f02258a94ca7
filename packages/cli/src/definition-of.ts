/**
 * The other direction: the definition of a built pump, so code and file are two views of one model.
 * For what a definition built, the entries are given back as they were written (`${VAR}` kept). For
 * what code built, the class's package comes from a hint, the class's static `package`, the package
 * a definition loaded it from, or @pump/core's own exports; the config is what the code gave
 * (values equal to the defaults and values from the `.conf` file are left out, as the file still
 * applies); constructor arguments are read back from the same-named properties (`iterable`,
 * `interval`, `connection`...). What cannot be written as data is reported, never guessed.
 */
import { isAbsolute, relative, resolve } from "node:path";
import * as core from "@pump/core";
import { Connection, Pipeline, Sink, type ConfigValue, type PumpApplication, type Trigger, type TriggerSource } from "@pump/core";
import { definitionEntryOf, type BuiltFrom } from "./build.js";
import { CORE_PACKAGE, type ComponentDefinition, type LookupDefinition, type PipelineDefinition, type PumpDefinition, type SourceDefinition, type TriggerDefinition } from "./definition.js";
import { DefinitionError, type DefinitionIssue } from "./errors.js";
import { builderFills, defaultsOf, positionalParameters, type ComponentKind } from "./introspect.js";
import { isModulePath, rememberedPackage } from "./resolve.js";
import { formatPath, type Path } from "./source-file.js";

export interface DefinitionOfOptions {
  /**
   * The package of classes built in code, by class or by class name: `{ SensorSource: "./src/sensors.ts" }`.
   * A module path is relative to `dir`.
   */
  packages?: ReadonlyMap<Function, string> | Readonly<Record<string, string>> | undefined;
  /** The directory the definition will live in: module paths are written relative to it (the working directory by default). */
  dir?: string | undefined;
}

/** Options of core's triggers that are kept on the trigger as properties of the same name. */
const TRIGGER_OPTIONS = ["timezone", "runImmediately", "chilldownPeriod", "maxTriggered"] as const;

function isPlainData(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.values(value).every(isPlainData);
  }
  return false;
}

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const name = (value.constructor as Function | undefined)?.name || Object.prototype.toString.call(value).slice(8, -1);
    return `a ${name}`;
  }
  return typeof value;
}

class Describer {
  readonly issues: DefinitionIssue[] = [];
  readonly #app: PumpApplication;
  readonly #options: DefinitionOfOptions;
  readonly #dir: string;

  constructor(app: PumpApplication, options: DefinitionOfOptions) {
    this.#app = app;
    this.#options = options;
    this.#dir = resolve(options.dir ?? process.cwd());
  }

  #issue(path: Path, message: string): void {
    this.issues.push({ code: "PUMP_DEFINITION_EXPRESS", file: "<app>", path: formatPath(path), message });
  }

  /** A module path written relative to the definition's directory. */
  #relative(file: string): string {
    const path = relative(this.#dir, file).replaceAll("\\", "/");
    return path.startsWith("../") ? path : `./${path}`;
  }

  #packageOf(object: object, built: BuiltFrom | undefined, path: Path): string | undefined {
    if (built !== undefined) {
      if (!isModulePath(built.package)) return built.package;
      const file = built.package.startsWith("file:") ? new URL(built.package).pathname : resolve(built.dir, built.package);
      return this.#relative(file);
    }
    const ctor = object.constructor as Function & { package?: unknown };
    const hints = this.#options.packages;
    const hinted = hints === undefined ? undefined : hints instanceof Map ? hints.get(ctor) : (hints as Record<string, string>)[ctor.name];
    const found = hinted ?? (typeof ctor.package === "string" ? ctor.package : undefined) ?? rememberedPackage(ctor) ?? ((core as Record<string, unknown>)[ctor.name] === ctor ? CORE_PACKAGE : undefined);
    if (found === undefined) {
      this.#issue(path, `no package is known for class '${ctor.name}': give definitionOf(app, { packages: { ${ctor.name}: "<package or ./module.ts>" } }), or a static 'package' property on the class`);
      return undefined;
    }
    if (isAbsolute(found)) return this.#relative(found);
    return found.startsWith("./") || found.startsWith("../") ? this.#relative(resolve(this.#dir, found)) : found;
  }

  /** The config given in code: neither a default nor from the `.conf` file. */
  #config(object: { config: core.Config }, path: Path): Record<string, ConfigValue> {
    const config = object.config;
    const defaults = defaultsOf(object.constructor);
    const spelled = new Map(Object.keys(defaults).map((key) => [key.toLowerCase(), key]));
    const fromFile = new Set(this.#app.config.keys(config.section));
    let merged: Record<string, ConfigValue> | undefined;
    try {
      merged = config.toObject();
    } catch {
      merged = undefined; // a file value that does not interpolate; the code's values are still readable one by one
    }
    const result: Record<string, ConfigValue> = {};
    for (const key of config.keys()) {
      if (fromFile.has(key)) continue;
      const value = merged?.[key] ?? config.get(key);
      const name = spelled.get(key) ?? key;
      if (name in defaults && defaults[name] === value) continue;
      if (!(name in defaults)) this.#issue([...path, "config", name], `config key '${name}' is not in the ConfigDefaults of '${object.constructor.name}': a definition with it would not load`);
      result[name] = value;
    }
    return result;
  }

  /** Constructor arguments read back from the same-named properties; the connection by its id. */
  #arguments(object: object, kind: ComponentKind, path: Path): { args: unknown[]; connection: string | undefined } {
    const params = positionalParameters(object.constructor, kind);
    if (params === undefined) {
      this.#issue(path, `the constructor of '${object.constructor.name}' cannot be read, so its arguments cannot be written`);
      return { args: [], connection: undefined };
    }
    const args: unknown[] = [];
    let connection: string | undefined;
    const record = object as Record<string, unknown>;
    for (const param of params) {
      const filled = builderFills(kind, param);
      if (filled === "id") continue;
      const value = record[param.name];
      if (filled === "connection") {
        if (value instanceof Connection) connection = value.id;
        else if (typeof value === "string") connection = value;
        else if (!param.optional) this.#issue(path, `'${object.constructor.name}' takes a connection, but has no 'connection' property holding it`);
        continue;
      }
      if (!(param.name in record) && !param.optional) {
        this.#issue(path, `constructor argument '${param.name}' of '${object.constructor.name}' is not kept in a property of that name, so it cannot be written`);
        args.push(undefined);
      } else if (value !== undefined && !isPlainData(value)) {
        this.#issue(path, `constructor argument '${param.name}' of '${object.constructor.name}' is ${describe(value)}, not plain data: a definition cannot hold it`);
        args.push(undefined);
      } else {
        args.push(value ?? null);
      }
    }
    while (args.length > 0 && (args.at(-1) === null || args.at(-1) === undefined)) args.pop();
    return { args, connection };
  }

  component(object: { id: string; config: core.Config }, kind: ComponentKind, path: Path): ComponentDefinition {
    const built = definitionEntryOf(object);
    const pkg = this.#packageOf(object, built, path);
    const entry: ComponentDefinition = { package: pkg ?? "", class: built?.class ?? object.constructor.name, id: object.id };
    const { args, connection } = built ?? this.#arguments(object, kind, path);
    if (connection !== undefined) entry.connection = connection;
    if (args.length > 0) entry.args = [...args];
    const config = built?.config ?? this.#config(object, path);
    if (Object.keys(config).length > 0) entry.config = { ...config };
    return entry;
  }

  trigger(trigger: Trigger, path: Path): TriggerDefinition {
    const built = definitionEntryOf(trigger);
    const entry: TriggerDefinition = { package: this.#packageOf(trigger, built, path) ?? "", class: built?.class ?? trigger.constructor.name };
    if (trigger.id !== entry.class) entry.id = trigger.id;
    const args = built?.args ?? this.#arguments(trigger, "trigger", path).args;
    if (args.length > 0) entry.args = [...args];
    let options: Record<string, unknown> = { ...built?.options };
    if (built === undefined) {
      const record = trigger as unknown as Record<string, unknown>;
      for (const key of TRIGGER_OPTIONS) if (record[key] !== undefined) options[key] = record[key];
    }
    if (Object.keys(options).length > 0) entry.options = options;
    return entry;
  }

  pipeline(pipeline: Pipeline, path: Path): PipelineDefinition {
    const entry: PipelineDefinition = { id: pipeline.id, sources: [] };
    const ctor = pipeline.constructor as typeof Pipeline;
    // A subclass that only builds its components in its constructor is a plain Pipeline in a definition.
    const ownBehaviour = Object.getOwnPropertyNames(ctor.prototype).some((name) => name !== "constructor") || Object.hasOwn(ctor, "ConfigDefaults");
    if (ctor !== Pipeline && ownBehaviour) {
      entry.package = this.#packageOf(pipeline, definitionEntryOf(pipeline), path) ?? "";
      entry.class = ctor.name;
    }
    const config = definitionEntryOf(pipeline)?.config ?? this.#config(pipeline, path);
    if (Object.keys(config).length > 0) entry.config = { ...config };
    entry.sources = pipeline.sources.map((source, i) => {
      const sourcePath = [...path, "sources", i];
      const definition: SourceDefinition = this.component(source, "source", sourcePath);
      const triggers = [...((source as TriggerSource).triggers ?? [])];
      if (triggers.length === 1) definition.trigger = this.trigger(triggers[0]!, [...sourcePath, "trigger"]);
      else if (triggers.length > 1) definition.trigger = triggers.map((t, k) => this.trigger(t, [...sourcePath, "trigger", k]));
      return definition;
    });
    const chain = [...pipeline.iterProcessors()].flat();
    const processors = chain.map((processor, i) => this.component(processor, "processor", [...path, "processors", i]));
    const sink = chain.at(-1) instanceof Sink ? processors.pop() : undefined;
    if (processors.length > 0) entry.processors = processors;
    if (sink !== undefined) entry.sink = sink;
    return entry;
  }

  lookup(lookup: core.Lookup<unknown, unknown>, path: Path): LookupDefinition {
    const entry: LookupDefinition = this.component(lookup, "lookup", path);
    if (lookup.lazy) entry.lazy = true;
    return entry;
  }
}

/**
 * The definition of a built pump: its connections, lookups and pipelines with their sources
 * (and triggers), processors and sink. Loading it (`createPump(definition)`) builds the same pump.
 * Throws a DefinitionError listing what cannot be written (a class whose package is not known, a
 * constructor argument that is not plain data).
 */
export function definitionOf(app: PumpApplication, options: DefinitionOfOptions = {}): PumpDefinition {
  const describer = new Describer(app, options);
  const service = app.pumpService;
  const definition: PumpDefinition = { pipelines: [] };
  const connections = [...service.connections.values()].map((c, i) => {
    const entry = describer.component(c, "connection", ["connections", i]);
    delete entry.connection;
    return entry;
  });
  if (connections.length > 0) definition.connections = connections;
  const lookups = [...service.lookups.values()].map((l, i) => describer.lookup(l, ["lookups", i]));
  if (lookups.length > 0) definition.lookups = lookups;
  definition.pipelines = [...service.pipelines.values()].map((p, i) => describer.pipeline(p, ["pipelines", i]));
  if (describer.issues.length > 0) throw new DefinitionError(describer.issues);
  return definition;
}

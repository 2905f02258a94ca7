/**
 * The first pass over a definition: its shape. Unknown keys, values of the wrong type, missing
 * required keys, duplicate ids and references to undeclared connections, each reported with its
 * path and line; what passes becomes a `PumpSpec`, the definition with defaults filled in and every
 * part knowing where it came from. Nothing is imported yet.
 */
import type { ConfigValue } from "@pump/core";
import { CORE_PACKAGE, KEYS } from "./definition.js";
import type { DefinitionIssue, DefinitionIssueCode } from "./errors.js";
import { formatPath, type DefinitionSource, type Path } from "./source-file.js";
import { didYouMean, listed } from "./suggest.js";

/** A class to import: where it is named in the definition, and from which package. */
export interface ClassSpec {
  readonly path: Path;
  readonly package: string;
  readonly class: string;
}

export interface ComponentSpec extends ClassSpec {
  readonly id: string;
  readonly args: readonly unknown[];
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly connection: string | undefined;
}

export interface TriggerSpec extends ClassSpec {
  readonly id: string | undefined;
  readonly args: readonly unknown[];
  readonly options: Readonly<Record<string, unknown>>;
}

export interface SourceSpec extends ComponentSpec {
  readonly triggers: readonly TriggerSpec[];
  /** Whether the definition wrote one trigger object rather than a list. */
  readonly singleTrigger: boolean;
}

export interface LookupSpec extends ComponentSpec {
  readonly lazy: boolean | undefined;
}

export interface PipelineSpec {
  readonly path: Path;
  readonly id: string;
  /** Undefined: core's Pipeline. */
  readonly class: ClassSpec | undefined;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly sources: readonly SourceSpec[];
  /** `processors` then `sink`, in pipeline order. */
  readonly chain: readonly ComponentSpec[];
  /** The entry given under `sink:`, if any (it is also the last of `chain`). */
  readonly sinkEntry: ComponentSpec | undefined;
}

export interface PumpSpec {
  readonly source: DefinitionSource;
  readonly connections: readonly ComponentSpec[];
  readonly lookups: readonly LookupSpec[];
  readonly pipelines: readonly PipelineSpec[];
}

type Mapping = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string '${value}'`;
  return `${typeof value} ${String(value)}`;
}

/** Collects the issues of one definition. */
export class IssueCollector {
  readonly issues: DefinitionIssue[] = [];
  readonly source: DefinitionSource;

  constructor(source: DefinitionSource) {
    this.source = source;
  }

  add(code: DefinitionIssueCode, path: Path, message: string, atKey = false): void {
    this.issues.push({ code, file: this.source.file, path: formatPath(path), line: this.source.lineOf(path, atKey), message });
  }
}

class ShapeChecker {
  readonly #out: IssueCollector;

  constructor(out: IssueCollector) {
    this.#out = out;
  }

  mapping(value: unknown, path: Path, keys: readonly string[], what: string): Mapping | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.#out.add("PUMP_DEFINITION_TYPE", path, `expected ${what} (a mapping with ${listed([...keys])}), got ${describe(value)}`);
      return undefined;
    }
    const mapping = value as Mapping;
    for (const key of Object.keys(mapping)) {
      if (!keys.includes(key)) {
        this.#out.add("PUMP_DEFINITION_KEY", [...path, key], `unknown key '${key}' in ${what}${didYouMean(key, keys)}; expected ${listed([...keys])}`, true);
      }
    }
    return mapping;
  }

  list(value: unknown, path: Path, what: string): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.#out.add("PUMP_DEFINITION_TYPE", path, `expected a list of ${what}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: Path, what: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "") {
      this.#out.add("PUMP_DEFINITION_TYPE", path, `expected ${what} (a non-empty string), got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  required<T>(value: T | undefined, mapping: Mapping, key: string, path: Path, what: string): T | undefined {
    if (!(key in mapping)) this.#out.add("PUMP_DEFINITION_TYPE", path, `'${key}' is required: ${what}`);
    return value;
  }

  config(value: unknown, path: Path): Record<string, ConfigValue> {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.#out.add("PUMP_DEFINITION_TYPE", path, `expected config as a mapping of keys to values, got ${describe(value)}`);
      return {};
    }
    const config: Record<string, ConfigValue> = {};
    for (const [key, item] of Object.entries(value as Mapping)) {
      if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") config[key] = item;
      else this.#out.add("PUMP_DEFINITION_TYPE", [...path, key], `expected a string, number or boolean for config key '${key}', got ${describe(item)}`);
    }
    return config;
  }

  classRef(entry: Mapping, path: Path, what: string): { package: string; class: string } | undefined {
    const pkg = this.string(entry.package, [...path, "package"], "a package name");
    const cls = this.required(this.string(entry.class, [...path, "class"], "a class name"), entry, "class", path, `the class of ${what}`);
    if (cls === undefined) return undefined;
    return { package: pkg ?? CORE_PACKAGE, class: cls };
  }

  args(entry: Mapping, path: Path): unknown[] {
    return this.list(entry.args, [...path, "args"], "constructor arguments") ?? [];
  }

  component(value: unknown, path: Path, keys: readonly string[], what: string): ComponentSpec | undefined {
    const entry = this.mapping(value, path, keys, what);
    if (entry === undefined) return undefined;
    const ref = this.classRef(entry, path, what);
    const id = this.string(entry.id, [...path, "id"], "an id");
    const args = this.args(entry, path);
    const config = this.config(entry.config, [...path, "config"]);
    const connection = keys.includes("connection") ? this.string(entry.connection, [...path, "connection"], "the id of a connection") : undefined;
    if (ref === undefined) return undefined;
    return { path, ...ref, id: id ?? ref.class, args, config, connection };
  }

  trigger(value: unknown, path: Path): TriggerSpec | undefined {
    const entry = this.mapping(value, path, KEYS.trigger, "a trigger");
    if (entry === undefined) return undefined;
    const ref = this.classRef(entry, path, "a trigger");
    const id = this.string(entry.id, [...path, "id"], "an id");
    const args = this.args(entry, path);
    let options: Mapping = {};
    if (entry.options !== undefined) {
      if (entry.options === null || typeof entry.options !== "object" || Array.isArray(entry.options)) {
        this.#out.add("PUMP_DEFINITION_TYPE", [...path, "options"], `expected the trigger's options as a mapping, got ${describe(entry.options)}`);
      } else {
        options = entry.options as Mapping;
        if ("id" in options) this.#out.add("PUMP_DEFINITION_KEY", [...path, "options", "id"], "give the trigger's id as 'id' next to 'class', not inside 'options'", true);
      }
    }
    if (ref === undefined) return undefined;
    return { path, ...ref, id, args, options };
  }

  source(value: unknown, path: Path): SourceSpec | undefined {
    const base = this.component(value, path, KEYS.source, "a source");
    if (base === undefined) return undefined;
    const raw = (value as Mapping).trigger;
    const triggers: TriggerSpec[] = [];
    const single = raw !== undefined && !Array.isArray(raw);
    if (Array.isArray(raw)) {
      for (const [i, item] of raw.entries()) {
        const trigger = this.trigger(item, [...path, "trigger", i]);
        if (trigger !== undefined) triggers.push(trigger);
      }
    } else if (raw !== undefined) {
      const trigger = this.trigger(raw, [...path, "trigger"]);
      if (trigger !== undefined) triggers.push(trigger);
    }
    return { ...base, triggers, singleTrigger: single };
  }

  lookup(value: unknown, path: Path): LookupSpec | undefined {
    const base = this.component(value, path, KEYS.lookup, "a lookup");
    if (base === undefined) return undefined;
    const lazy = (value as Mapping).lazy;
    if (lazy !== undefined && typeof lazy !== "boolean") {
      this.#out.add("PUMP_DEFINITION_TYPE", [...path, "lazy"], `expected true or false, got ${describe(lazy)}`);
      return { ...base, lazy: undefined };
    }
    return { ...base, lazy };
  }

  pipeline(value: unknown, path: Path): PipelineSpec | undefined {
    const entry = this.mapping(value, path, KEYS.pipeline, "a pipeline");
    if (entry === undefined) return undefined;
    const id = this.required(this.string(entry.id, [...path, "id"], "the pipeline's id"), entry, "id", path, "the pipeline's id");
    if (id?.includes(".") === true) this.#out.add("PUMP_DEFINITION_TYPE", [...path, "id"], `pipeline id '${id}' must not contain '.' (it separates addresses such as 'Pipeline.Processor')`);
    let cls: ClassSpec | undefined;
    if (entry.class !== undefined || entry.package !== undefined) {
      const ref = this.classRef(entry, path, "the pipeline");
      if (ref !== undefined) cls = { path, ...ref };
    }
    const config = this.config(entry.config, [...path, "config"]);
    const sources: SourceSpec[] = [];
    const rawSources = this.required(this.list(entry.sources, [...path, "sources"], "sources"), entry, "sources", path, "the sources that feed the pipeline");
    if (rawSources?.length === 0) this.#out.add("PUMP_DEFINITION_TYPE", [...path, "sources"], "a pipeline needs at least one source");
    for (const [i, item] of (rawSources ?? []).entries()) {
      const source = this.source(item, [...path, "sources", i]);
      if (source !== undefined) sources.push(source);
    }
    const chain: ComponentSpec[] = [];
    for (const [i, item] of (this.list(entry.processors, [...path, "processors"], "processors") ?? []).entries()) {
      const processor = this.component(item, [...path, "processors", i], KEYS.processor, "a processor");
      if (processor !== undefined) chain.push(processor);
    }
    let sinkEntry: ComponentSpec | undefined;
    if (entry.sink !== undefined) {
      sinkEntry = this.component(entry.sink, [...path, "sink"], KEYS.processor, "a sink");
      if (sinkEntry !== undefined) chain.push(sinkEntry);
    }
    if (id === undefined) return undefined;
    return { path, id, class: cls, config, sources, chain, sinkEntry };
  }
}

/** Reports a second use of an id among `items`. */
function checkDuplicates(out: IssueCollector, items: readonly { id: string; path: Path }[], what: string, where: string): void {
  const seen = new Map<string, Path>();
  for (const item of items) {
    const first = seen.get(item.id);
    if (first === undefined) seen.set(item.id, item.path);
    else out.add("PUMP_DEFINITION_DUPLICATE", item.path, `${what} id '${item.id}' is used twice${where} (first at ${formatPath(first)}): give each its own 'id'`);
  }
}

/** The shape pass: returns the spec (possibly partial) and adds every problem to `out`. */
export function checkShape(out: IssueCollector): PumpSpec {
  const check = new ShapeChecker(out);
  const top = check.mapping(out.source.data, [], KEYS.top, "a pump definition");
  const empty: PumpSpec = { source: out.source, connections: [], lookups: [], pipelines: [] };
  if (top === undefined) return empty;

  const connections: ComponentSpec[] = [];
  for (const [i, item] of (check.list(top.connections, ["connections"], "connections") ?? []).entries()) {
    const connection = check.component(item, ["connections", i], KEYS.connection, "a connection");
    if (connection !== undefined) connections.push(connection);
  }
  const lookups: LookupSpec[] = [];
  for (const [i, item] of (check.list(top.lookups, ["lookups"], "lookups") ?? []).entries()) {
    const lookup = check.lookup(item, ["lookups", i]);
    if (lookup !== undefined) lookups.push(lookup);
  }
  const pipelines: PipelineSpec[] = [];
  const rawPipelines = check.required(check.list(top.pipelines, ["pipelines"], "pipelines"), top, "pipelines", [], "the list of pipelines to run");
  if (rawPipelines?.length === 0) out.add("PUMP_DEFINITION_TYPE", ["pipelines"], "a pump needs at least one pipeline");
  for (const [i, item] of (rawPipelines ?? []).entries()) {
    const pipeline = check.pipeline(item, ["pipelines", i]);
    if (pipeline !== undefined) pipelines.push(pipeline);
  }

  checkDuplicates(out, connections, "connection", "");
  checkDuplicates(out, lookups, "lookup", "");
  checkDuplicates(out, pipelines, "pipeline", "");
  for (const pipeline of pipelines) {
    checkDuplicates(out, pipeline.sources, "source", ` in pipeline '${pipeline.id}'`);
    checkDuplicates(out, pipeline.chain, "processor", ` in pipeline '${pipeline.id}'`);
  }

  // Every `connection:` names a declared connection.
  const declared = connections.map((c) => c.id);
  const referring = [...lookups, ...pipelines.flatMap((p) => [...p.sources, ...p.chain])];
  for (const component of referring) {
    if (component.connection === undefined || declared.includes(component.connection)) continue;
    const known = declared.length === 0 ? "no connections are declared: add it under 'connections'" : `declared: ${listed(declared)}`;
    out.add("PUMP_DEFINITION_REFERENCE", [...component.path, "connection"], `connection '${component.connection}' is not declared${didYouMean(component.connection, declared)}; ${known}`);
  }
  return { source: out.source, connections, lookups, pipelines };
}

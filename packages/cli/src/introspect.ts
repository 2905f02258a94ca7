/**
 * What a class tells about itself at run time: which kind of component it is (by its base class in
 * @pump/core), its merged ConfigDefaults (core's `collectDefaults`), and the names of its
 * constructor's parameters (read from the class's source text, as compiled), so a definition's
 * `args` and `connection` go to the right places.
 */
import {
  Connection,
  Generator,
  Lookup,
  Pipeline,
  Processor,
  Sink,
  Source,
  Trigger,
  TriggerSource,
  collectDefaults,
  type ConfigValue,
  type ConfigValues,
} from "@pump/core";

export type ComponentKind = "source" | "processor" | "generator" | "sink" | "connection" | "lookup" | "trigger" | "pipeline";

type AnyClass = abstract new (...args: never[]) => unknown;

const BASES: readonly [ComponentKind, AnyClass][] = [
  ["sink", Sink],
  ["generator", Generator],
  ["processor", Processor],
  ["source", Source],
  ["connection", Connection],
  ["lookup", Lookup],
  ["trigger", Trigger],
  ["pipeline", Pipeline],
];

/** The classes components derive from: not components themselves. */
export const BASE_CLASSES: ReadonlySet<unknown> = new Set([...BASES.map(([, base]) => base), TriggerSource]);

export const KIND_NAMES: Readonly<Record<ComponentKind, string>> = {
  source: "Source",
  processor: "Processor",
  generator: "Generator",
  sink: "Sink",
  connection: "Connection",
  lookup: "Lookup",
  trigger: "Trigger",
  pipeline: "Pipeline",
};

export function isClass(value: unknown): value is AnyClass {
  return typeof value === "function" && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** The kind of component a class is, by the @pump/core base class it derives from. */
export function kindOf(ctor: unknown): ComponentKind | undefined {
  if (typeof ctor !== "function") return undefined;
  const prototype: unknown = ctor.prototype;
  for (const [kind, base] of BASES) if (ctor === base || prototype instanceof base) return kind;
  return undefined;
}

export function isTriggerSource(ctor: unknown): boolean {
  return typeof ctor === "function" && (ctor === TriggerSource || ctor.prototype instanceof TriggerSource);
}

/**
 * For a class that is no component of this @pump/core but derives from a class named like one: the
 * name of that base, as a sign it was built on another copy of @pump/core.
 */
export function foreignBase(ctor: unknown): string | undefined {
  const names = new Set(Object.values(KIND_NAMES));
  let current: unknown = typeof ctor === "function" ? Object.getPrototypeOf(ctor) : undefined;
  while (typeof current === "function" && current !== Function.prototype) {
    if (names.has(current.name)) return current.name;
    current = Object.getPrototypeOf(current);
  }
  return undefined;
}

/** The merged ConfigDefaults of a class, keys as the class spells them. */
export function defaultsOf(ctor: unknown): ConfigValues {
  return typeof ctor === "function" ? collectDefaults(ctor as AnyClass) : {};
}

// ---- constructor parameters ------------------------------------------------------------------

/** Skips a string, template or comment starting at `i`; returns the index after it, or `i` if none starts there. */
function skipLiteral(text: string, i: number): number {
  const c = text[i];
  if (c === "/" && text[i + 1] === "/") {
    const end = text.indexOf("\n", i);
    return end < 0 ? text.length : end + 1;
  }
  if (c === "/" && text[i + 1] === "*") {
    const end = text.indexOf("*/", i + 2);
    return end < 0 ? text.length : end + 2;
  }
  if (c === '"' || c === "'" || c === "`") {
    let j = i + 1;
    while (j < text.length && text[j] !== c) {
      if (text[j] === "\\") j++;
      else if (c === "`" && text[j] === "$" && text[j + 1] === "{") {
        j = matching(text, j + 1) - 1;
      }
      j++;
    }
    return j + 1;
  }
  return i;
}

const OPENERS = "([{";
const CLOSERS = ")]}";

/**
 * The characters of `text` from `from` on that are outside strings, templates and comments, each with
 * its bracket depth: for a bracket, the depth outside it; for anything else, the depth it is at.
 */
function* structure(text: string, from = 0): IterableIterator<[index: number, char: string, depth: number]> {
  let depth = 0;
  for (let i = from; i < text.length; ) {
    const skipped = skipLiteral(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = text[i]!;
    if (CLOSERS.includes(c)) depth--;
    yield [i, c, depth];
    if (OPENERS.includes(c)) depth++;
    i++;
  }
}

/** Given the index of an opening bracket, the index after its closing one. */
function matching(text: string, open: number): number {
  for (const [i, c, depth] of structure(text, open)) if (depth === 0 && CLOSERS.includes(c)) return i + 1;
  return text.length;
}

/** The parameter list of the class's own constructor, as text; undefined if the class has none of its own. */
function ownConstructorParameters(source: string): string | undefined {
  const body = source.indexOf("{", source.search(/\bclass\b/) + 5);
  if (body < 0) return undefined;
  // Only the class body's own members (depth 1), so a `constructor(` inside a method is not taken.
  for (const [i, c, depth] of structure(source, body)) {
    if (depth === 0 && CLOSERS.includes(c)) return undefined;
    if (depth !== 1 || c !== "c" || !source.startsWith("constructor", i) || /[\w$.]/.test(source[i - 1] ?? "")) continue;
    const open = /^constructor\s*\(/.exec(source.slice(i));
    if (open === null) continue;
    const start = i + open[0].length - 1;
    return source.slice(start + 1, matching(source, start) - 1);
  }
  return undefined;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const [i, c, depth] of structure(text)) {
    if (c !== "," || depth !== 0) continue;
    parts.push(text.slice(start, i));
    start = i + 1;
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

export interface Parameter {
  name: string;
  /** Has a default value in the source (so it may be left out). */
  optional: boolean;
  rest: boolean;
}

/**
 * The constructor's parameters of a class (its own, or the nearest base class's), from its source
 * text; undefined when they cannot be read (a native or bound class).
 */
export function constructorParameters(ctor: unknown): Parameter[] | undefined {
  let current: unknown = ctor;
  while (typeof current === "function" && current !== Function.prototype) {
    let source: string;
    try {
      source = Function.prototype.toString.call(current);
    } catch {
      return undefined;
    }
    if (!source.startsWith("class")) return undefined;
    const params = ownConstructorParameters(source);
    if (params !== undefined) {
      return splitTopLevel(params).map((param) => {
        const rest = param.startsWith("...");
        const name = /^(?:\.\.\.)?\s*([\w$]+)/.exec(param)?.[1] ?? (param.startsWith("{") ? "options" : param);
        return { name, optional: /=/.test(param.replace(/=>/g, "")), rest };
      });
    }
    current = Object.getPrototypeOf(current);
  }
  // No constructor anywhere in the chain: the implicit one takes nothing.
  return [];
}

/** The constructor parameters the builder passes first: `(app, pipeline)` for pipeline components, `(app)` for the others. */
export const LEADING: Readonly<Record<ComponentKind, number>> = {
  source: 2, processor: 2, generator: 2, sink: 2, connection: 1, lookup: 1, trigger: 1, pipeline: 1,
};

/**
 * The positional parameters between the leading ones and the trailing options object: the
 * connection and `args` go there. Undefined when the constructor cannot be read or takes a rest parameter.
 */
export function positionalParameters(ctor: unknown, kind: ComponentKind): Parameter[] | undefined {
  const params = constructorParameters(ctor);
  if (params === undefined || params.some((p) => p.rest)) return undefined;
  const after = params.slice(LEADING[kind]);
  return after.slice(0, Math.max(0, after.length - 1));
}

/**
 * What the builder itself passes in a positional parameter: the entry's `connection` (a parameter
 * named so), or the entry's id (the `id` parameter of connections and lookups); undefined for one `args` fills.
 */
export function builderFills(kind: ComponentKind, param: Parameter): "connection" | "id" | undefined {
  if (param.name === "connection" && kind !== "trigger") return "connection";
  if (param.name === "id" && (kind === "connection" || kind === "lookup")) return "id";
  return undefined;
}

// ---- config values -----------------------------------------------------------------------------

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const DURATION = /^[+-]?(\d+\.?\d*|\.\d+)\s*(ms|[smhdwMy])$/;
const BOOLEAN_TEXT = /^(true|false|yes|no|on|off|1|0)$/i;

/** What a key whose default is `fallback` expects, when `value` does not fit it; undefined when it fits. */
export function configValueProblem(value: ConfigValue, fallback: ConfigValue): string | undefined {
  switch (typeof fallback) {
    case "number":
      // A number, or text that reads as one: "10", or a duration such as "30s" or "5m" for getSeconds keys.
      if (typeof value === "number" && !Number.isNaN(value)) return undefined;
      if (typeof value === "string" && (NUMBER.test(value.trim()) || DURATION.test(value.trim()))) return undefined;
      return `a number (its default is ${fallback})`;
    case "boolean":
      if (typeof value === "boolean") return undefined;
      if (typeof value === "string" && BOOLEAN_TEXT.test(value.trim())) return undefined;
      if (typeof value === "number" && (value === 0 || value === 1)) return undefined;
      return `a boolean (its default is ${fallback})`;
    default:
      // Text; a number is taken as its text, as a .conf file would give it.
      if (typeof value === "string" || typeof value === "number") return undefined;
      return `a string (its default is ${JSON.stringify(fallback)})`;
  }
}

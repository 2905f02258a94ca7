/**
 * The definition format: what a pump file holds. BSPump's PumpBuilder entries (`module`, `class`,
 * `id`, `args`, `config`) with a package name for the module. Each list below is also the set of
 * keys the validator accepts at that place.
 */
import type { ConfigValue } from "@pump/core";

/** The package every entry without `package` comes from. */
export const CORE_PACKAGE = "@pump/core";

/** What every constructed thing has: where its class comes from, which class, which id. */
export interface ClassReference {
  /**
   * The npm package exporting the class (`@pump/kafka`), resolved from the definition's directory as
   * `import()` would there; or a module path relative to the definition file (`./components.ts`).
   * `@pump/core` when left out.
   */
  package?: string | undefined;
  class: string;
  /** Defaults to the class name. */
  id?: string | undefined;
}

/** A component of the pump: a connection, a lookup, a source, a processor or a sink. */
export interface ComponentDefinition extends ClassReference {
  /**
   * Positional constructor arguments after `(app, pipeline)` (after `(app)` for connections and
   * lookups), e.g. the iterable of an IteratorSource. Plain data: strings, numbers, booleans, lists, maps.
   */
  args?: unknown[] | undefined;
  /** Overrides the class's ConfigDefaults; the `.conf` file section overrides this. `${VAR}` is read from the environment. */
  config?: Record<string, ConfigValue> | undefined;
  /** The id of a declared connection, passed as the constructor's `connection` argument. */
  connection?: string | undefined;
}

export type ConnectionDefinition = Omit<ComponentDefinition, "connection">;

export interface LookupDefinition extends ComponentDefinition {
  /** Not loaded at start, but on first use. */
  lazy?: boolean | undefined;
}

/** A trigger of a TriggerSource: `{class: PeriodicTrigger, args: [5]}`. */
export interface TriggerDefinition extends ClassReference {
  /** Positional constructor arguments after `app` (the period, the cron expression...). */
  args?: unknown[] | undefined;
  /** The trigger's options object besides `id` (`timezone`, `chilldownPeriod`, `maxTriggered`...). */
  options?: Record<string, unknown> | undefined;
}

export interface SourceDefinition extends ComponentDefinition {
  /** What starts the cycles of a TriggerSource: one trigger, or a list. */
  trigger?: TriggerDefinition | TriggerDefinition[] | undefined;
}

export interface PipelineDefinition {
  id: string;
  /** A Pipeline subclass (e.g. one overriding `handleError`); `Pipeline` of @pump/core by default. */
  package?: string | undefined;
  class?: string | undefined;
  config?: Record<string, ConfigValue> | undefined;
  sources: SourceDefinition[];
  /** Processors and generators, in order; the last may be the sink instead of `sink`. */
  processors?: ComponentDefinition[] | undefined;
  sink?: ComponentDefinition | undefined;
}

export interface PumpDefinition {
  connections?: ConnectionDefinition[] | undefined;
  lookups?: LookupDefinition[] | undefined;
  pipelines: PipelineDefinition[];
}

/** The keys allowed at each place of a definition, for "unknown key" errors and their suggestions. */
export const KEYS = {
  top: ["connections", "lookups", "pipelines"],
  connection: ["package", "class", "id", "args", "config"],
  lookup: ["package", "class", "id", "args", "config", "connection", "lazy"],
  pipeline: ["id", "package", "class", "config", "sources", "processors", "sink"],
  source: ["package", "class", "id", "args", "config", "connection", "trigger"],
  processor: ["package", "class", "id", "args", "config", "connection"],
  trigger: ["package", "class", "id", "args", "options"],
} as const;

/**
 * Building a pump from a loaded definition, as BSPump's PumpBuilder does: connections first (so
 * components can locate them in their constructors), then lookups, then each pipeline with its
 * sources (and their triggers), processors and sink. Each component gets its definition's config as
 * the constructor's `config`, so the `.conf` file's section still overrides it.
 */
import { Pipeline, PumpApplication, type ConfigFile, type ConfigValue, type Source, type TriggerSource } from "@pump/core";
import { DefinitionError } from "./errors.js";
import type { ResolvedClass, LoadedDefinition } from "./load.js";
import { loadDefinition, type LoadOptions } from "./load.js";
import { builderFills } from "./introspect.js";
import { isModulePath, rememberPackage } from "./resolve.js";
import { IssueCollector, type ClassSpec, type ComponentSpec, type TriggerSpec } from "./shape.js";
import type { Path } from "./source-file.js";

/** What a definition said about a constructed object, for `definitionOf` to give back exactly. */
export interface BuiltFrom {
  readonly package: string;
  /** The definition's directory, which a module path (`./components.ts`) is relative to. */
  readonly dir: string;
  readonly class: string;
  readonly args: readonly unknown[];
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly connection: string | undefined;
  readonly options: Readonly<Record<string, unknown>> | undefined;
}

const builtFrom = new WeakMap<object, BuiltFrom>();

/** The definition entry an object was built from, when a definition built it. */
export function definitionEntryOf(object: object): BuiltFrom | undefined {
  return builtFrom.get(object);
}

type Ctor = new (...args: unknown[]) => unknown;

/** Positional arguments in constructor order: the connection in its parameter's slot, `args` in the others. */
function positional(cls: ResolvedClass, id: string, connection: string | undefined, args: readonly unknown[]): unknown[] {
  const params = cls.parameters;
  if (params === undefined) return connection === undefined ? [...args] : [connection, ...args];
  const result: unknown[] = [];
  let next = 0;
  for (const param of params) {
    const filled = builderFills(cls.kind, param);
    result.push(filled === "connection" ? connection : filled === "id" ? id : args[next++]);
  }
  return result;
}

class Builder {
  readonly #loaded: LoadedDefinition;
  readonly #app: PumpApplication;
  readonly #out: IssueCollector;

  constructor(app: PumpApplication, loaded: LoadedDefinition) {
    this.#app = app;
    this.#loaded = loaded;
    this.#out = new IssueCollector(loaded.source);
  }

  #value<T>(raw: T): T {
    return (this.#loaded.values.get(raw as object) ?? raw) as T;
  }

  /** Runs a constructor; its error becomes an issue at the entry. */
  #construct<T>(path: Path, what: string, make: () => T): T | undefined {
    try {
      return make();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#out.add("PUMP_DEFINITION_BUILD", path, `${what} could not be built: ${reason}`);
      return undefined;
    }
  }

  #record(object: unknown, spec: ClassSpec, cls: ResolvedClass, extra: Omit<BuiltFrom, "package" | "dir" | "class">): void {
    rememberPackage(cls.ctor, isModulePath(cls.package) ? cls.where : cls.package);
    builtFrom.set(object as object, { package: spec.package, dir: this.#loaded.source.dir, class: spec.class, ...extra });
  }

  #component<T>(spec: ComponentSpec, leading: unknown[], extraOptions: Record<string, unknown> = {}): T | undefined {
    const cls = this.#loaded.classes.get(spec)!;
    const config = this.#value(spec.config);
    const args = this.#value(spec.args);
    const options = { id: spec.id, config, ...extraOptions };
    const made = this.#construct(spec.path, `'${spec.id}' (${spec.class})`, () => new (cls.ctor as Ctor)(...leading, ...positional(cls, spec.id, spec.connection, args), options));
    if (made !== undefined) this.#record(made, spec, cls, { args: spec.args, config: spec.config, connection: spec.connection, options: undefined });
    return made as T | undefined;
  }

  #trigger(spec: TriggerSpec): unknown {
    const cls = this.#loaded.classes.get(spec)!;
    const args = this.#value(spec.args);
    const options = { ...this.#value(spec.options), ...(spec.id === undefined ? {} : { id: spec.id }) };
    const made = this.#construct(spec.path, `trigger ${spec.class}`, () => new (cls.ctor as Ctor)(this.#app, ...positional(cls, spec.id ?? spec.class, undefined, args), options));
    if (made !== undefined) this.#record(made, spec, cls, { args: spec.args, config: {}, connection: undefined, options: spec.options });
    return made;
  }

  build(): void {
    const { spec } = this.#loaded;
    const service = this.#app.pumpService;
    for (const entry of spec.connections) {
      const connection = this.#component<Parameters<typeof service.addConnection>[0]>(entry, [this.#app]);
      if (connection !== undefined) this.#construct(entry.path, `connection '${entry.id}'`, () => service.addConnection(connection));
    }
    for (const entry of spec.lookups) {
      const lookup = this.#component<Parameters<typeof service.addLookup>[0]>(entry, [this.#app], entry.lazy === undefined ? {} : { lazy: entry.lazy });
      if (lookup !== undefined) this.#construct(entry.path, `lookup '${entry.id}'`, () => service.addLookup(lookup));
    }
    for (const entry of spec.pipelines) {
      const cls = entry.class === undefined ? undefined : this.#loaded.classes.get(entry.class)!;
      const ctor = (cls?.ctor ?? Pipeline) as new (app: PumpApplication, options: object) => Pipeline;
      const config = this.#value(entry.config);
      const pipeline = this.#construct(entry.path, `pipeline '${entry.id}'`, () => new ctor(this.#app, { id: entry.id, config }));
      if (pipeline === undefined) continue;
      if (entry.class !== undefined && cls !== undefined) this.#record(pipeline, entry.class, cls, { args: [], config: entry.config, connection: undefined, options: undefined });
      if (pipeline.sources.length > 0 || [...pipeline.iterProcessors()].some((depth) => depth.length > 0)) {
        this.#out.add("PUMP_DEFINITION_BUILD", entry.path, `pipeline class '${entry.class?.class}' builds its own components in its constructor; a definition's pipeline class must leave that to the definition (keep only its behaviour, e.g. handleError)`);
        continue;
      }
      for (const sourceSpec of entry.sources) {
        const source = this.#component<Source>(sourceSpec, [this.#app, pipeline]);
        if (source === undefined) continue;
        for (const triggerSpec of sourceSpec.triggers) {
          const trigger = this.#trigger(triggerSpec);
          if (trigger !== undefined) this.#construct(triggerSpec.path, "trigger", () => (source as TriggerSource).on(trigger as Parameters<TriggerSource["on"]>[0]));
        }
        this.#construct(sourceSpec.path, `source '${sourceSpec.id}'`, () => pipeline.setSource(source));
      }
      for (const processorSpec of entry.chain) {
        const processor = this.#component<Parameters<Pipeline["appendProcessor"]>[0]>(processorSpec, [this.#app, pipeline]);
        if (processor !== undefined) this.#construct(processorSpec.path, `'${processorSpec.id}'`, () => pipeline.appendProcessor(processor));
      }
      this.#construct(entry.path, `pipeline '${entry.id}'`, () => service.addPipeline(pipeline));
    }
    if (this.#out.issues.length > 0) throw new DefinitionError(this.#out.issues);
  }
}

/** Builds the definition's connections, lookups and pipelines into `app`; throws a DefinitionError listing every constructor that failed. */
export function buildPump<A extends PumpApplication>(app: A, loaded: LoadedDefinition): A {
  new Builder(app, loaded).build();
  return app;
}

export interface CreatePumpOptions extends LoadOptions {
  /** The application's command line (`-c FILE`, `-w ADDR`, `-v`); none by default. */
  args?: readonly string[] | undefined;
  /** A loaded `.conf`, used when `args` names no `-c` file. */
  config?: ConfigFile | undefined;
}

/** Loads a definition (a file, or the data of one) and builds it into a new PumpApplication, ready to `run()`. */
export async function createPump(definition: string | object, options: CreatePumpOptions = {}): Promise<PumpApplication> {
  const loaded = await loadDefinition(definition, options);
  const app = new PumpApplication({ args: options.args ?? [], config: options.config });
  return buildPump(app, loaded);
}

import type { Connection } from "../component/connection.js";
import type { ProcessorBase } from "../component/processor-base.js";
import type { Source } from "../component/source.js";
import { DuplicateError, NotFoundError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Lookup } from "../lookup/lookup.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { PumpApplication } from "./application.js";

/**
 * The registry of a pump ("bspump.PumpService"): pipelines, connections and lookups by id, and
 * their lifecycle. Start: connections connect, eager lookups load, then pipelines start. Stop:
 * pipelines stop (and flush), then connections close.
 */
export class PumpService {
  readonly app: PumpApplication;
  readonly pipelines = new Map<string, Pipeline>();
  readonly connections = new Map<string, Connection>();
  readonly lookups = new Map<string, Lookup<unknown, unknown>>();
  readonly #log: Logger;
  #running = false;

  constructor(app: PumpApplication) {
    this.app = app;
    this.#log = app.log.child({}, "bspump.service");
  }

  addPipeline(pipeline: Pipeline): Pipeline {
    if (this.pipelines.has(pipeline.id)) throw new DuplicateError("Pipeline", pipeline.id);
    this.pipelines.set(pipeline.id, pipeline);
    if (this.#running) void this.#startPipeline(pipeline);
    return pipeline;
  }

  addPipelines(...pipelines: Pipeline[]): void {
    for (const pipeline of pipelines) this.addPipeline(pipeline);
  }

  /** Removes a pipeline, stopping it first if it runs. */
  async delPipeline(pipeline: Pipeline | string): Promise<void> {
    const found = typeof pipeline === "string" ? this.pipelines.get(pipeline) : pipeline;
    if (found === undefined || this.pipelines.get(found.id) !== found) throw new NotFoundError("Pipeline", String(typeof pipeline === "string" ? pipeline : pipeline.id));
    this.pipelines.delete(found.id);
    await found.stop();
  }

  addConnection<C extends Connection>(connection: C): C {
    if (this.connections.has(connection.id)) throw new DuplicateError("Connection", connection.id);
    this.connections.set(connection.id, connection);
    return connection;
  }

  addConnections(...connections: Connection[]): void {
    for (const connection of connections) this.addConnection(connection);
  }

  /** Components locate connections in their constructors, so register connections before building pipelines. */
  locateConnection<C extends Connection = Connection>(id: string | C): C {
    if (typeof id !== "string") return id;
    const connection = this.connections.get(id);
    if (connection === undefined) throw new NotFoundError("Connection", id, "did you call addConnection() before adding the pipeline?");
    return connection as C;
  }

  addLookup<L extends Lookup<unknown, unknown>>(lookup: L): L {
    if (this.lookups.has(lookup.id)) throw new DuplicateError("Lookup", lookup.id);
    this.lookups.set(lookup.id, lookup);
    return lookup;
  }

  addLookups(...lookups: Lookup<unknown, unknown>[]): void {
    for (const lookup of lookups) this.addLookup(lookup);
  }

  locateLookup<L extends Lookup<unknown, unknown> = Lookup<unknown, unknown>>(id: string | L): L {
    if (typeof id !== "string") return id;
    const lookup = this.lookups.get(id);
    if (lookup === undefined) throw new NotFoundError("Lookup", id, "did you call addLookup()?");
    return lookup as L;
  }

  /**
   * BSPump's addresses: "Pipeline" is a pipeline, "Pipeline.Processor" a processor at any depth,
   * "Pipeline.*Source" a source. Undefined when nothing is there.
   */
  locate(address: string): Pipeline | ProcessorBase | Source | undefined {
    const dot = address.indexOf(".");
    const pipeline = this.pipelines.get(dot < 0 ? address : address.slice(0, dot));
    if (pipeline === undefined || dot < 0) return pipeline;
    const rest = address.slice(dot + 1);
    return rest.startsWith("*") ? pipeline.locateSource(rest.slice(1)) : pipeline.locateProcessor(rest);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Connects, loads eager lookups, starts every pipeline. */
  async initialize(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.connect()));
    await Promise.all([...this.lookups.values()].filter((lookup) => !lookup.lazy).map((lookup) => lookup.update()));
    this.#running = true;
    await Promise.all([...this.pipelines.values()].map((pipeline) => this.#startPipeline(pipeline)));
  }

  /**
   * Stops every pipeline (sources, then in-flight work, then sinks flush), then closes connections.
   * A pipeline stops only after the pipelines feeding it (links, routes), so what they hand over on
   * their way out is still processed.
   */
  async finalize(): Promise<void> {
    this.#running = false;
    const left = new Set(this.pipelines.values());
    while (left.size > 0) {
      let wave = [...left].filter((pipeline) => ![...pipeline.upstream()].some((feeder) => left.has(feeder)));
      if (wave.length === 0) wave = [...left]; // feeding in a circle: stop the rest together
      for (const pipeline of wave) left.delete(pipeline);
      await Promise.all(wave.map((pipeline) => pipeline.stop()));
    }
    const closing = [...this.connections.values()].map(async (connection) => {
      try {
        await connection.disconnect();
      } catch (error) {
        this.#log.error("Connection failed to close", { connection: connection.id, error });
      }
    });
    await Promise.all(closing);
  }

  /** Closes each pipeline's rate period (the application calls it every tick). */
  tick(): void {
    const now = performance.now();
    for (const pipeline of this.pipelines.values()) pipeline.metrics.tick(now);
  }

  async #startPipeline(pipeline: Pipeline): Promise<void> {
    try {
      await pipeline.start();
    } catch (error) {
      pipeline.setError(undefined, undefined, error);
    }
  }
}

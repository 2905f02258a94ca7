import { setTimeout as delay } from "node:timers/promises";
import {
  ConfigError,
  deliveryOf,
  Sink,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import type { BulkItem, BulkOwner } from "./bulk.js";
import { ElasticSearchConnection } from "./connection.js";
import { DATA_FEEDERS, type DataFeeder, type Document } from "./data-feeder.js";
import { ElasticSearchDocumentError, ElasticSearchStoppedError } from "./errors.js";

export interface ElasticSearchSinkOptions extends ComponentOptions {
  /** A feeder of your own; overrides the `data_feeder` config key. */
  dataFeeder?: DataFeeder | undefined;
}

export interface ElasticSearchSinkStats {
  /** Events taken into a bulk. */
  taken: number;
  /** Events Elasticsearch confirmed. */
  confirmed: number;
  /** Events Elasticsearch refused for good (or retried past `retry_timeout`), handed to the pipeline's error handling. */
  rejected: number;
  /** Events still unconfirmed when `flush_timeout` passed or the connection closed: their deliveries failed. */
  abandoned: number;
  /** Times this sink throttled its pipeline because the connection's output queue was full. */
  throttled: number;
}

/**
 * Writes events (objects) to Elasticsearch in bulks (BSPump's ElasticSearchSink). The index is
 * `context.es_index` when set, else the `index` config key. The event's `_id`, if any, becomes the
 * document id and is left out of the document (the event itself is not changed). The data feeder —
 * `data_feeder` = `create_or_index` (BSPump's default), `create`, `index`, `update`, `upsert` or
 * `delete`, or a function given as `dataFeeder` — makes the bulk item.
 *
 * Bulking, retrying and the output queue belong to the connection (see ElasticSearchConnection); this
 * sink throttles its pipeline while that queue is full. Each event's delivery is confirmed when
 * Elasticsearch confirmed the item. An item refused for good (a mapping conflict, a version conflict,
 * a missing document) goes through the pipeline's error handling with Elasticsearch's reason for that
 * item — hard by default (the pipeline stops, the delivery fails), soft or routed if the pipeline says
 * so; the other items of the bulk are not affected. `stop()` sends what is left and waits until
 * Elasticsearch confirmed it, at most `flush_timeout` seconds (0, the default: as long as it takes).
 */
// Takes `object`, not `Document`: a chain typed with an interface (no index signature) must fit too.
export class ElasticSearchSink extends Sink<object> implements BulkOwner {
  static override ConfigDefaults: ConfigValues = {
    index: "bspump_",
    index_prefix: "bspump_",
    data_feeder: "create_or_index",
    flush_timeout: 0,
  };

  override readonly confirmsDelivery = true;
  readonly connection: ElasticSearchConnection;
  readonly index: string;
  readonly dataFeeder: DataFeeder;
  readonly flushTimeout: number;
  readonly stats: ElasticSearchSinkStats = { taken: 0, confirmed: 0, rejected: 0, abandoned: 0, throttled: 0 };
  #throttling = false;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | ElasticSearchConnection, options: ElasticSearchSinkOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof ElasticSearchConnection)) throw new TypeError(`ElasticSearchSink '${this.id}': connection '${located.id}' is not an ElasticSearchConnection`);
    this.connection = located;
    const c = this.config;
    let index = c.get("index").trim();
    const prefix = c.get("index_prefix").trim();
    if (index === "bspump_" && prefix !== "bspump_" && prefix !== "") {
      this.log.warn("The 'index_prefix' key is obsolete: use 'index'", { index: prefix });
      index = prefix;
    }
    if (index === "") throw new ConfigError("no index", { section: c.section, key: "index" }, "PUMP_CONFIG_MISSING");
    this.index = index;
    if (options.dataFeeder !== undefined) {
      this.dataFeeder = options.dataFeeder;
    } else {
      const name = c.get("data_feeder").trim().toLowerCase();
      const feeder = DATA_FEEDERS[name];
      if (feeder === undefined) {
        throw new ConfigError(`expected one of ${Object.keys(DATA_FEEDERS).join(", ")}, got '${name}'`, { section: c.section, key: "data_feeder" }, "PUMP_CONFIG_VALUE");
      }
      this.dataFeeder = feeder;
    }
    this.flushTimeout = c.getSeconds("flush_timeout");
    if (!(this.flushTimeout >= 0)) throw new ConfigError(`expected 0 (no limit) or more seconds, got ${this.flushTimeout}`, { section: c.section, key: "flush_timeout" }, "PUMP_CONFIG_VALUE");
  }

  /** Events taken and not yet confirmed or given up. */
  get pending(): number {
    return this.connection.bulks.pending(this);
  }

  override start(): void {
    this.connection.bulks.attach(this);
  }

  process(context: Context, input: object): void {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new ElasticSearchDocumentError(`ElasticSearchSink takes objects, got ${input === null ? "null" : Array.isArray(input) ? "an array" : typeof input}`);
    }
    const event = input as Document;
    let id: string | undefined;
    let document: Document = event;
    if (Object.hasOwn(event, "_id")) {
      const { _id: raw, ...rest } = event;
      document = rest;
      if (typeof raw === "string") id = raw;
      else if (typeof raw === "number" || typeof raw === "bigint") id = String(raw);
      else if (raw !== undefined && raw !== null) throw new ElasticSearchDocumentError(`_id must be a string or a number, got ${typeof raw}`);
    }
    const routed = context.es_index;
    const index = typeof routed === "string" && routed !== "" ? routed : this.index;
    let payload: string;
    try {
      payload = this.dataFeeder(document, id);
    } catch (error) {
      if (error instanceof ElasticSearchDocumentError) throw error;
      throw new ElasticSearchDocumentError(`cannot make a bulk item of the event: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    this.stats.taken++;
    this.connection.bulks.add(index, { payload, bytes: Buffer.byteLength(payload), owner: this, context, event, id, maybeDelivered: false, settled: false });
  }

  /** Sends what is buffered and waits for Elasticsearch to confirm it (at most `flush_timeout` seconds). */
  override async stop(): Promise<void> {
    const bulks = this.connection.bulks;
    bulks.flush();
    const drained = bulks.drained(this);
    if (this.flushTimeout > 0) {
      const timer = new AbortController();
      const inTime = await Promise.race([drained.then(() => true), delay(this.flushTimeout * 1000, false, { signal: timer.signal }).catch(() => false)]);
      timer.abort();
      if (!inTime) {
        const count = bulks.abandon(this, new ElasticSearchStoppedError(`the sink stopped before Elasticsearch confirmed the event (flush_timeout ${this.flushTimeout} s)`));
        this.log.error("Elasticsearch did not confirm every event before flush_timeout; their deliveries fail", { events: count, flushTimeout: this.flushTimeout });
      }
    } else {
      await drained;
    }
    bulks.detach(this);
    this.pause(false);
  }

  // ---- BulkOwner: the connection reports each item here -------------------------------------

  confirmed(item: BulkItem): void {
    this.stats.confirmed++;
    deliveryOf(item.context)?.done();
  }

  rejected(item: BulkItem, error: Error): void {
    this.stats.rejected++;
    const hard = this.pipeline.setError(item.context, item.event, error, this);
    const delivery = deliveryOf(item.context);
    if (delivery === undefined) return;
    if (hard) delivery.fail(error);
    else delivery.done();
  }

  abandoned(item: BulkItem, error: Error): void {
    this.stats.abandoned++;
    deliveryOf(item.context)?.fail(error);
  }

  pause(on: boolean): void {
    if (on === this.#throttling) return;
    this.#throttling = on;
    if (on) this.stats.throttled++;
    this.pipeline.throttle(this, on);
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Index: this.index, Pending: this.pending, Throttling: this.#throttling, Stats: { ...this.stats } };
  }
}

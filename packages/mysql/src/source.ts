import type { Readable } from "node:stream";
import { ConfigError, isStopSignal, TriggerSource, type ComponentOptions, type ConfigValues, type Pipeline, type PumpApplication } from "@pump/core";
import type { Connection as CallbackConnection } from "mysql2";
import type { PoolConnection } from "mysql2/promise";
import { MySQLConnection } from "./connection.js";
import { MySQLQueryError } from "./errors.js";

/** A row as the source emits it: column name → value (as mysql2 reads it: numbers, strings, Dates, Buffers, null). */
export type MySQLRow = Record<string, unknown>;

export interface MySQLSourceStats {
  /** Cycles that ran their query to the end. */
  cycles: number;
  /** Rows handed to the pipeline. */
  rows: number;
  /** `processBatch` calls (one per chunk). */
  chunks: number;
}

/**
 * Runs `query` each time one of its triggers fires and hands the rows to the pipeline as `{column:
 * value}` objects, `chunk_size` rows per `processBatch`. The result is streamed: rows are read from the
 * server only as fast as the pipeline takes them (the socket is paused meanwhile), so a result of any
 * size uses memory for about two chunks.
 *
 * A server down when the cycle begins is waited for (with backoff). A failure once rows flow (the
 * connection lost mid-result, a query error) ends the cycle with a `MySQLQueryError` through the
 * pipeline's error handling: the rows already handed over are not taken back, and the next cycle runs
 * the query again from the start.
 */
export class MySQLSource extends TriggerSource<MySQLRow> {
  static override ConfigDefaults: ConfigValues = {
    query: "",
    chunk_size: 1000,
  };

  readonly connection: MySQLConnection;
  readonly query: string;
  readonly chunkSize: number;
  readonly stats: MySQLSourceStats = { cycles: 0, rows: 0, chunks: 0 };
  #stream: Readable | undefined;
  #chunk = 0;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | MySQLConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof MySQLConnection)) throw new TypeError(`MySQLSource '${this.id}': connection '${located.id}' is not a MySQLConnection`);
    this.connection = located;
    const c = this.config;
    this.query = c.get("query").trim();
    if (this.query === "") throw new ConfigError("the query to run is not set", { section: c.section, key: "query" }, "PUMP_CONFIG_MISSING");
    this.chunkSize = c.getInt("chunk_size");
    if (!(this.chunkSize >= 1)) throw new ConfigError(`must be 1 or more, got ${this.chunkSize}`, { section: c.section, key: "chunk_size" }, "PUMP_CONFIG_VALUE");
  }

  /** Rows read from the server and not yet handed to the pipeline (the stream's buffer and the chunk being filled). */
  get buffered(): number {
    return (this.#stream?.readableLength ?? 0) + this.#chunk;
  }

  async cycle(): Promise<void> {
    const connection = await this.connection.getConnection(this.signal);
    let broken = false;
    try {
      await this.#read(connection);
    } catch (error) {
      broken = true;
      if (this.signal.aborted && isStopSignal(error)) throw error;
      throw new MySQLQueryError(`the query failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      this.#stream = undefined;
      this.#chunk = 0;
      // A connection left in the middle of a result cannot be used again.
      if (broken) connection.destroy();
      else connection.release();
    }
    this.stats.cycles++;
  }

  async #read(connection: PoolConnection): Promise<void> {
    // The promise wrapper's `connection` is the callback connection (typed as the wrapper): it streams.
    const core = connection.connection as unknown as CallbackConnection;
    const stream = core.query(this.query).stream({ highWaterMark: this.chunkSize });
    this.#stream = stream;
    let chunk: MySQLRow[] = [];
    for await (const row of stream as AsyncIterable<MySQLRow>) {
      chunk.push(row);
      this.#chunk = chunk.length;
      if (chunk.length >= this.chunkSize) {
        await this.#hand(chunk);
        chunk = [];
        this.#chunk = 0;
      }
    }
    if (chunk.length > 0) await this.#hand(chunk);
  }

  async #hand(chunk: MySQLRow[]): Promise<void> {
    await this.processBatch(chunk);
    this.stats.rows += chunk.length;
    this.stats.chunks++;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Query: this.query, ChunkSize: this.chunkSize, Stats: { ...this.stats } };
  }
}

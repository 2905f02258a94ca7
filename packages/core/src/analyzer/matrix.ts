import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import { ConfigError, DuplicateError, NotFoundError } from "../errors.js";
import type { Logger } from "../logger.js";
import { PubSub } from "../pubsub.js";
import { allocate, fieldSpec, resized, type Column, type FieldSpec, type FieldType } from "./dtype.js";

export interface MatrixOptions {
  /** Names the matrix (`locateMatrix`) and its config section `[matrix:<id>]`; defaults to the class name. */
  id?: string | undefined;
  config?: ConfigValues | undefined;
}

/** How a matrix stores its cells: named fields, each `width` cells per row. */
export interface MatrixLayout {
  fields: Readonly<Record<string, FieldType>>;
  /** Cells per row in each field (a time window: its columns; a session: 1). */
  width: number;
  /** What new and cleared numeric cells hold (default 0). */
  fill?: number | undefined;
}

const CHANGED = "Matrix changed!";

/**
 * Rows of cells addressed by name, kept in typed arrays (BSPump's NamedMatrix, without numpy): each
 * field is one array of `capacity × width` cells, row after row (`row * width + cell`).
 *
 * Rows are allocated from a free list: `addRow(name)` takes the lowest free row, growing the arrays by
 * max(5, 10 %) rows when none is free; `closeRow(name)` clears the row and frees it. When at least
 * `max_closed_rows_capacity` (config, 0.2) of the rows are free, the matrix compacts (`flush()`):
 * open rows keep their order but get new indexes, and the arrays are replaced. So look rows up by
 * name (`getRowIndex`) rather than keep indexes or arrays across `addRow`/`closeRow`/`flush`; close a
 * batch with `closeRows()`, which compacts once, after the batch. "Matrix changed!" is published on
 * `matrix.pubsub` when rows are added, closed or renumbered.
 */
export abstract class NamedMatrix {
  static ConfigDefaults: ConfigValues = { max_closed_rows_capacity: 0.2 };

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;
  readonly pubsub: PubSub;
  /** Cells per row in each field. */
  readonly width: number;
  readonly fill: number;
  readonly maxClosedRowsCapacity: number;
  readonly #specs: ReadonlyMap<string, FieldSpec>;
  readonly #fieldNames: readonly string[];
  readonly #columns = new Map<string, Column>();
  #capacity = 0;
  /** Free rows, popped from the end: the lowest index is last. */
  #free: number[] = [];
  readonly #freeSet = new Set<number>();
  #names: (string | undefined)[] = [];
  readonly #index = new Map<string, number>();

  constructor(app: PumpApplication, options: MatrixOptions, layout: MatrixLayout) {
    this.app = app;
    this.id = options.id ?? new.target.name;
    this.config = Config.forClass(new.target, `matrix:${this.id}`, options.config, app.config);
    this.log = app.log.child({ matrix: this.id }, "bspump.matrix");
    this.pubsub = new PubSub(this.log);
    if (!Number.isSafeInteger(layout.width) || layout.width < 1) {
      throw new ConfigError(`matrix '${this.id}': a row needs at least one cell, got width ${layout.width}`, {}, "PUMP_CONFIG_VALUE");
    }
    this.width = layout.width;
    this.fill = layout.fill ?? 0;
    this.maxClosedRowsCapacity = this.config.getFloat("max_closed_rows_capacity");
    this.#specs = new Map(Object.entries(layout.fields).map(([name, type]) => [name, fieldSpec(type, `matrix '${this.id}' field '${name}'`)]));
    this.#fieldNames = Object.freeze([...this.#specs.keys()]);
    this.#reset();
  }

  /** Rows allocated, open or free (BSPump's `Array.shape[0]`). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Open rows. */
  get size(): number {
    return this.#capacity - this.#freeSet.size;
  }

  /** Free (closed or never used) rows. */
  get closedCount(): number {
    return this.#freeSet.size;
  }

  get fieldNames(): readonly string[] {
    return this.#fieldNames;
  }

  hasField(name: string): boolean {
    return this.#specs.has(name);
  }

  /** The array behind a field: `capacity × width` cells. Replaced when rows are added beyond the capacity or compacted. */
  column(field: string): Column {
    const column = this.#columns.get(field);
    if (column === undefined) throw new NotFoundError("Field", field, `in matrix '${this.id}' (fields: ${this.fieldNames.join(", ") || "none"})`);
    return column;
  }

  protected spec(field: string): FieldSpec {
    const spec = this.#specs.get(field);
    if (spec === undefined) throw new NotFoundError("Field", field, `in matrix '${this.id}' (fields: ${this.fieldNames.join(", ") || "none"})`);
    return spec;
  }

  /** Opens a row for `name` and returns its index; a name that has a row already gets that row. */
  addRow(name: string): number {
    const existing = this.#index.get(name);
    if (existing !== undefined) return existing;
    if (this.#free.length === 0) this.#grow(Math.max(5, Math.floor(0.1 * this.#capacity)));
    const index = this.#free.pop()!;
    this.#freeSet.delete(index);
    this.#names[index] = name;
    this.#index.set(name, index);
    this.clearRow(index); // a row closed without clearing keeps its cells until it is reused
    this.rowOpened(index);
    this.pubsub.publish(CHANGED, this);
    return index;
  }

  /** Closes the row of `name` (clearing its cells unless `clear` is false); false if it has none. May compact the matrix. */
  closeRow(name: string, clear = true): boolean {
    if (!this.#close(name, clear)) return false;
    this.pubsub.publish(CHANGED, this);
    this.#compactIfSparse();
    return true;
  }

  /** Closes several rows, compacting at most once, after all of them; returns how many were closed. */
  closeRows(names: Iterable<string>, clear = true): number {
    let closed = 0;
    for (const name of names) if (this.#close(name, clear)) closed++;
    if (closed > 0) {
      this.pubsub.publish(CHANGED, this);
      this.#compactIfSparse();
    }
    return closed;
  }

  getRowIndex(name: string): number | undefined {
    return this.#index.get(name);
  }

  getRowName(index: number): string | undefined {
    return this.#names[index];
  }

  /** Whether a row index is open. */
  isOpen(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.#capacity && !this.#freeSet.has(index);
  }

  /** The open rows, `[name, index]`, in index order: a snapshot, safe to close rows while going through it. */
  rows(): [string, number][] {
    const rows: [string, number][] = [];
    for (let i = 0; i < this.#capacity; i++) {
      const name = this.#names[i];
      if (name !== undefined) rows.push([name, i]);
    }
    return rows;
  }

  /** Removes the free rows: open rows keep their order and get indexes 0..size-1. Returns which old indexes were dropped and which were kept (old index of each new row). */
  flush(): { closed: number[]; kept: number[] } {
    const kept: number[] = [];
    const closed: number[] = [];
    for (let i = 0; i < this.#capacity; i++) (this.#freeSet.has(i) ? closed : kept).push(i);
    const width = this.width;
    for (const [field, column] of this.#columns) {
      const next = allocate(this.#specs.get(field)!, kept.length * width, this.fill);
      kept.forEach((old, row) => {
        if (Array.isArray(column)) for (let c = 0; c < width; c++) (next as string[])[row * width + c] = column[old * width + c]!;
        else (next as typeof column).set(column.subarray(old * width, (old + 1) * width), row * width);
      });
      this.#columns.set(field, next);
    }
    const names = kept.map((old) => this.#names[old]);
    this.#names = names;
    this.#index.clear();
    names.forEach((name, row) => {
      if (name !== undefined) this.#index.set(name, row);
    });
    this.#capacity = kept.length;
    this.#free = [];
    this.#freeSet.clear();
    this.rowsMoved(this.#capacity, kept);
    this.pubsub.publish(CHANGED, this);
    return { closed, kept };
  }

  /** Drops every row: one free row is left, as a new matrix has. */
  zeros(): void {
    this.#reset();
    this.rowsMoved(this.#capacity, []);
    this.pubsub.publish(CHANGED, this);
  }

  /** The matrix's own analysis, for an AnalyzingSource to emit (BSPump's `Matrix.analyze()`); nothing by default. */
  analyze(): unknown {
    return undefined;
  }

  time(): number {
    return this.app.time();
  }

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name, Rows: this.size, Closed: this.closedCount, Capacity: this.#capacity, Fields: this.fieldNames };
  }

  /** Subclasses: a row was opened (its cells are cleared). */
  protected rowOpened(_index: number): void {}

  /** Subclasses that keep per-row state: the rows are now `capacity`; `kept` gives the old index of each row after a compaction (undefined: rows kept their indexes). */
  protected rowsMoved(_capacity: number, _kept: readonly number[] | undefined): void {}

  /** Sets a row's cells in every field to the empty value. */
  protected clearRow(index: number): void {
    const from = index * this.width;
    const to = from + this.width;
    for (const column of this.#columns.values()) {
      if (Array.isArray(column)) column.fill("", from, to);
      else column.fill(this.fill, from, to);
    }
  }

  #close(name: string, clear: boolean): boolean {
    const index = this.#index.get(name);
    if (index === undefined) return false;
    this.#index.delete(name);
    this.#names[index] = undefined;
    if (clear) this.clearRow(index);
    this.#free.push(index);
    this.#freeSet.add(index);
    return true;
  }

  #compactIfSparse(): void {
    if (this.#freeSet.size >= this.maxClosedRowsCapacity * this.#capacity) this.flush();
  }

  #grow(rows: number): void {
    const old = this.#capacity;
    const capacity = old + rows;
    for (const [field, column] of this.#columns) this.#columns.set(field, resized(this.#specs.get(field)!, column, capacity * this.width, this.fill));
    this.#names.length = capacity;
    for (let i = capacity - 1; i >= old; i--) {
      this.#free.push(i);
      this.#freeSet.add(i);
    }
    this.#capacity = capacity;
    this.rowsMoved(capacity, undefined);
  }

  #reset(): void {
    this.#capacity = 1;
    for (const [field, spec] of this.#specs) this.#columns.set(field, allocate(spec, this.width, this.fill));
    this.#names = [undefined];
    this.#index.clear();
    this.#free = [0];
    this.#freeSet.clear();
    this.#freeSet.add(0);
  }
}

/**
 * The matrices of an application, by id (BSPump keeps them in its PumpService: `add_matrix`,
 * `locate_matrix`). Registered as the service "bspump.MatrixService" the first time it is asked for.
 */
export class MatrixService {
  static readonly NAME = "bspump.MatrixService";
  readonly matrices = new Map<string, NamedMatrix>();

  addMatrix<M extends NamedMatrix>(matrix: M): M {
    if (this.matrices.has(matrix.id)) throw new DuplicateError("Matrix", matrix.id);
    this.matrices.set(matrix.id, matrix);
    return matrix;
  }

  /** A matrix by id, or the matrix given (as `locateLookup` does). */
  locateMatrix<M extends NamedMatrix = NamedMatrix>(id: string | M): M {
    if (typeof id !== "string") return id;
    const matrix = this.matrices.get(id);
    if (matrix === undefined) throw new NotFoundError("Matrix", id, "did you add it with addMatrix(), or build the analyzer that creates it, first?");
    return matrix as M;
  }
}

const services = new WeakMap<PumpApplication, MatrixService>();

/** The application's MatrixService, created (and registered as "bspump.MatrixService") on first use. */
export function matrixService(app: PumpApplication): MatrixService {
  let service = services.get(app);
  if (service === undefined) {
    service = new MatrixService();
    services.set(app, service);
    app.registerService(MatrixService.NAME, service);
  }
  return service;
}

export function addMatrix<M extends NamedMatrix>(app: PumpApplication, matrix: M): M {
  return matrixService(app).addMatrix(matrix);
}

export function locateMatrix<M extends NamedMatrix = NamedMatrix>(app: PumpApplication, id: string | M): M {
  return matrixService(app).locateMatrix(id);
}

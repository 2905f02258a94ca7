import type { PumpApplication } from "../application/application.js";
import { ConfigError } from "../errors.js";
import { numericSpec, type NumericArray, type NumericArrayOf, type NumericType } from "./dtype.js";
import { NamedMatrix, type MatrixOptions } from "./matrix.js";

export interface TimeWindowMatrixOptions<T extends NumericType = "f8"> extends MatrixOptions {
  /** The cell type (default "f8"); `array` and `rowView()` are the typed array of it (`"i4"`: Int32Array). */
  dtype?: T | undefined;
  /** Epoch seconds the window starts from (default: the application's clock now). */
  startTime?: number | undefined;
  /** Seconds per column (default 60). */
  resolution?: number | undefined;
  /** Time slots (default 15). */
  columns?: number | undefined;
  /** Advance the window with the application clock (on each "Application.tick!" while an analyzer uses the matrix). */
  clockDriven?: boolean | undefined;
  /** What new cells hold: 0 by default (BSPump: NaN in memory, 0 when persistent); NaN is allowed for f8/f4. */
  fill?: number | undefined;
}

const VALUE = "value";
const TICK = "Application.tick!";

function positive(value: number, what: string, id: string, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    throw new ConfigError(`time window matrix '${id}': ${what} must be a positive ${integer ? "integer" : "number"}, got ${value}`, {}, "PUMP_CONFIG_VALUE");
  }
  return value;
}

/**
 * BSPump's TimeWindowMatrix: a row per name (a key, a dimension), a column per time slot of
 * `resolution` seconds, `columns` of them, in one typed array. The window covers (`end`, `start`):
 * `start` is the first slot boundary after the start time, `end = start − resolution × columns`;
 * column 0 is the oldest slot, the last column the newest.
 *
 * ```
 *   column:   0       1      ...    columns-1
 *          |-------|-------| ... |-------|
 *         end (past)                    start (now)
 * ```
 *
 * `getColumn(timestamp)` finds the slot (undefined and counted as late at or before `end`, early at
 * or after `start`). `advance(now)` shifts the window by whole slots — the oldest column drops out, a
 * cleared one comes in — until `start` is more than a quarter slot ahead of `now`. Each new row has a
 * warming-up count of `columns`, lowered by each shift: a row with a count of 0 has seen a whole window.
 */
export class TimeWindowMatrix<T extends NumericType = "f8"> extends NamedMatrix {
  readonly dtype: T;
  readonly resolution: number;
  readonly columns: number;
  readonly clockDriven: boolean;
  /** Timestamps that fell outside the window. */
  readonly counters = { early: 0, late: 0 };
  #start: number;
  #end: number;
  #warm: Int32Array = new Int32Array(this.capacity);
  #users = 0;
  readonly #truncate: boolean;
  readonly #onTick = (): void => {
    this.advance(this.time());
  };

  constructor(app: PumpApplication, options: TimeWindowMatrixOptions<T> = {}) {
    const id = options.id ?? new.target.name;
    const spec = numericSpec(options.dtype ?? "f8", `time window matrix '${id}'`);
    const columns = positive(options.columns ?? 15, "columns", id, true);
    const resolution = positive(options.resolution ?? 60, "resolution", id, false);
    super(app, options, { fields: { [VALUE]: spec.type }, width: columns, fill: options.fill });
    this.dtype = spec.type as T;
    this.#truncate = spec.truncate;
    this.columns = columns;
    this.resolution = resolution;
    this.clockDriven = options.clockDriven ?? false;
    const startTime = options.startTime ?? app.time();
    this.#start = (1 + Math.floor(startTime / resolution)) * resolution;
    this.#end = this.#start - resolution * columns;
  }

  /** Every cell, row after row: cell (row, column) is `array[row * columns + column]`. Replaced when the matrix grows or compacts. */
  get array(): NumericArrayOf<T> {
    return this.column(VALUE) as NumericArrayOf<T>;
  }

  /** The end of the newest slot (epoch seconds, exclusive). */
  get start(): number {
    return this.#start;
  }

  /** The beginning of the oldest slot (epoch seconds, exclusive). */
  get end(): number {
    return this.#end;
  }

  get(row: number, column: number): number {
    return this.#values()[this.#cell(row, column)]!;
  }

  set(row: number, column: number, value: unknown): void {
    this.#values()[this.#cell(row, column)] = this.#number(value);
  }

  /** Adds to a cell (a count, a sum) and returns the new value. */
  add(row: number, column: number, delta: unknown = 1): number {
    const array = this.#values();
    const cell = this.#cell(row, column);
    array[cell] = this.#number(array[cell]! + Number(delta));
    return array[cell]!;
  }

  /** The cells of one row (a view: writes go to the matrix). */
  rowView(row: number): NumericArrayOf<T> {
    this.#cell(row, 0);
    return this.#values().subarray(row * this.columns, (row + 1) * this.columns) as NumericArrayOf<T>;
  }

  /** How many more shifts the row needs to have seen a whole window (0: warmed up). */
  warmingUpCount(row: number): number {
    return this.#warm[row] ?? 0;
  }

  /**
   * The column of a timestamp (epoch seconds), or undefined when it is outside the window: at or
   * before `end` (counted as late) or at or after `start` (counted as early). A timestamp that is not
   * a finite number has no column (and is not counted).
   */
  getColumn(timestamp: number): number | undefined {
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) return undefined;
    if (timestamp <= this.#end) {
      this.counters.late++;
      return undefined;
    }
    if (timestamp >= this.#start) {
      this.counters.early++;
      return undefined;
    }
    return Math.min(this.columns - 1, Math.floor((timestamp - this.#end) / this.resolution));
  }

  /**
   * Shifts the window until `start` is more than a quarter of a slot after `target` (so the last
   * column is not about to end); returns how many columns were added. A jump over a whole window
   * clears it at once instead of shifting column by column.
   */
  advance(target: number): number {
    if (!Number.isFinite(target)) return 0;
    const due = (n: number): boolean => (this.#start + n * this.resolution - target) / this.resolution <= 0.25;
    if (!due(0)) return 0;
    let n = Math.max(1, Math.floor((target - this.#start) / this.resolution + 0.25) + 1);
    while (due(n)) n++;
    while (n > 1 && !due(n - 1)) n--;
    if (n < this.columns) {
      for (let i = 0; i < n; i++) this.addColumn();
      return n;
    }
    this.#values().fill(this.fill);
    this.#shiftTime(n);
    return n;
  }

  /** Shifts the window by one slot: column 0 drops out, every column moves one left, the last is cleared. */
  addColumn(): void {
    const array = this.#values();
    const columns = this.columns;
    // One move for the whole array: each row's first cell lands in the previous row's last cell, which is then cleared.
    array.copyWithin(0, 1);
    for (let last = columns - 1; last < array.length; last += columns) array[last] = this.fill;
    this.#shiftTime(1);
  }

  /** Starts following the application clock (a clock-driven matrix); an analyzer calls it from `start()`. Counted: the last `detach()` stops it. */
  attach(): void {
    if (this.#users++ === 0 && this.clockDriven) this.app.pubsub.subscribe(TICK, this.#onTick);
  }

  detach(): void {
    if (this.#users === 0) return;
    if (--this.#users === 0 && this.clockDriven) this.app.pubsub.unsubscribe(TICK, this.#onTick);
  }

  override restGet(): Record<string, unknown> {
    return {
      ...super.restGet(),
      Start: this.#start,
      End: this.#end,
      Resolution: this.resolution,
      Columns: this.columns,
      ClockDriven: this.clockDriven,
      EarlyEvents: this.counters.early,
      LateEvents: this.counters.late,
    };
  }

  protected override rowOpened(index: number): void {
    this.#warm[index] = this.columns;
  }

  protected override rowsMoved(capacity: number, kept: readonly number[] | undefined): void {
    const warm = new Int32Array(capacity);
    if (kept === undefined) warm.set(this.#warm.subarray(0, Math.min(capacity, this.#warm.length)));
    else kept.forEach((old, row) => (warm[row] = this.#warm[old] ?? 0));
    this.#warm = warm;
  }

  #shiftTime(slots: number): void {
    this.#start += slots * this.resolution;
    this.#end += slots * this.resolution;
    // Free rows too: a row gets its count anew when it is opened.
    const warm = this.#warm;
    for (let row = 0; row < warm.length; row++) warm[row] = Math.max(0, warm[row]! - slots);
  }

  #cell(row: number, column: number): number {
    if (!this.isOpen(row)) throw new RangeError(`time window matrix '${this.id}': row ${row} is not open`);
    if (!Number.isInteger(column) || column < 0 || column >= this.columns) throw new RangeError(`time window matrix '${this.id}': column ${column} is outside 0..${this.columns - 1}`);
    return row * this.columns + column;
  }

  #values(): NumericArray {
    return this.column(VALUE) as NumericArray;
  }

  #number(value: unknown): number {
    const number = typeof value === "number" ? value : Number(value);
    if (!this.#truncate) return number;
    return Number.isFinite(number) ? Math.trunc(number) : 0;
  }
}

import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import { coerce, type CellValue, type FieldType, type NumericArray } from "./dtype.js";
import { NamedMatrix, type MatrixOptions } from "./matrix.js";

/** The fields of a session row, in order: `{ user: "U30", bytes: "i8", last_seen: "f8" }`. */
export type SessionFields = Readonly<Record<string, FieldType>>;

export interface SessionMatrixOptions extends MatrixOptions {
  /** The typed fields of each session (BSPump's structured dtype); none by default. */
  dtype?: SessionFields | undefined;
}

/**
 * BSPump's SessionMatrix: a row per session (by name), with typed fields, each field one array
 * (a typed array, or strings for `U<n>` fields). Open a session with `addRow(name)`, fill it with
 * `storeEvent`/`store`/`set`, read it with `decodeRow`/`get`, end it with `closeRow(name)`.
 * `decodeRow` names the session under the config key `primary_name` ("id").
 */
export class SessionMatrix extends NamedMatrix {
  static override ConfigDefaults: ConfigValues = { primary_name: "id" };

  readonly primaryName: string;

  constructor(app: PumpApplication, options: SessionMatrixOptions = {}) {
    super(app, options, { fields: options.dtype ?? {}, width: 1 });
    this.primaryName = this.config.get("primary_name");
  }

  /** A field's array, one cell per row. */
  field(name: string): NumericArray | string[] {
    return this.column(name);
  }

  get(row: number, field: string): CellValue {
    this.#check(row);
    return this.column(field)[row]!;
  }

  set(row: number, field: string, value: unknown): void {
    this.#check(row);
    const column = this.column(field);
    column[row] = coerce(this.spec(field), value) as never;
  }

  /** Replaces the whole row of session `name`: fields missing from `record` are cleared. False when the session has no row. */
  store(name: string, record: Readonly<Record<string, unknown>>): boolean {
    const row = this.getRowIndex(name);
    if (row === undefined) return false;
    this.clearRow(row);
    this.storeEvent(row, record);
    return true;
  }

  /** Copies the event's values into the row's fields of the same names (only `keys`, when given); other keys are ignored. */
  storeEvent(row: number, event: Readonly<Record<string, unknown>>, keys?: Iterable<string>): void {
    this.#check(row);
    for (const key of keys ?? Object.keys(event)) {
      if (!Object.hasOwn(event, key) || !this.hasField(key)) continue;
      this.set(row, key, event[key]);
    }
  }

  /** The row as an object: its fields (only `keys`, when given) and its session name under `primary_name`. */
  decodeRow(row: number, keys?: Iterable<string>): Record<string, CellValue> {
    this.#check(row);
    const event: Record<string, CellValue> = {};
    for (const key of keys ?? this.fieldNames) if (this.hasField(key)) event[key] = this.column(key)[row]!;
    event[this.primaryName] = this.getRowName(row)!;
    return event;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), PrimaryName: this.primaryName };
  }

  #check(row: number): void {
    if (!this.isOpen(row)) throw new RangeError(`session matrix '${this.id}': row ${row} is not open`);
  }
}

import { inspect } from "node:util";
import { formatCsvRow, QUOTE_MINIMAL, type CsvDialect } from "@pump/file";

/** pandas' `to_csv` dialect: commas, quotes only where needed, "\n" after each row. */
const CSV: CsvDialect = {
  delimiter: ",",
  quotechar: '"',
  escapechar: undefined,
  doublequote: true,
  skipinitialspace: false,
  lineterminator: "\n",
  quoting: QUOTE_MINIMAL,
  strict: false,
};

/** pandas shows at most this many rows; a longer frame shows its first and last 5. */
const MAX_ROWS = 60;

/** A value as pandas shows it in a column of objects. */
function cell(value: unknown): string {
  return value === null || value === undefined ? "None" : String(value);
}

/**
 * The little of a pandas DataFrame the tutorial uses: named columns, rows appended, `to_csv` without
 * the index, and printed as pandas prints a frame (so PPrintProcessor shows a table).
 */
export class DataFrame<Row extends Record<string, unknown> = Record<string, unknown>> {
  readonly columns: readonly (keyof Row & string)[];
  readonly rows: Row[] = [];

  constructor(columns: readonly (keyof Row & string)[]) {
    this.columns = columns;
  }

  append(row: Row): this {
    this.rows.push(row);
    return this;
  }

  /** `df.to_csv(index=False)`: the header line, then one line per row. */
  toCSV(): string {
    return [this.columns, ...this.rows.map((row) => this.columns.map((column) => row[column]))].map((values) => formatCsvRow(values, CSV)).join("");
  }

  /** The frame as pandas prints it: an index, columns right-aligned two spaces apart, long frames cut in the middle. */
  toString(): string {
    const cut = this.rows.length > MAX_ROWS;
    const shown = cut ? [...this.rows.slice(0, 5).map((r, i) => [i, r] as const), ...this.rows.slice(-5).map((r, i) => [this.rows.length - 5 + i, r] as const)] : this.rows.map((r, i) => [i, r] as const);
    const lines = shown.map(([index, row]) => [String(index), ...this.columns.map((column) => cell(row[column]))]);
    if (cut) lines.splice(5, 0, ["..", ...this.columns.map(() => "...")]);
    const table = [["", ...this.columns], ...lines];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((line) => line[c]!.length)));
    const text = table.map((line) => line.map((value, c) => (c === 0 ? value.padEnd(widths[c]!) : value.padStart(widths[c]!))).join("  ")).join("\n");
    return cut ? `${text}\n\n[${this.rows.length} rows x ${this.columns.length} columns]` : text;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

import { ConfigError } from "../errors.js";

/**
 * Numeric cell types, numpy's names: f8 float64, f4 float32, i4 int32, i2 int16, i1 int8, u4 uint32,
 * u2 uint16, u1 uint8, and i8 "int64", kept in a Float64Array and truncated to an integer when written
 * through the matrix (exact up to 2^53). Long names ("float64", "int32"...) and BSPump's "float_" /
 * "int_" are accepted too.
 */
export type NumericType = "f8" | "f4" | "i8" | "i4" | "i2" | "i1" | "u4" | "u2" | "u1";

/** A field of a session row: a number type, or `U<n>` for a string of at most n characters (numpy's unicode). */
export type FieldType = NumericType | `U${number}`;

export type NumericArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

/** The typed array a numeric type is kept in. */
export type NumericArrayOf<T extends NumericType> = {
  f8: Float64Array;
  f4: Float32Array;
  i8: Float64Array;
  i4: Int32Array;
  i2: Int16Array;
  i1: Int8Array;
  u4: Uint32Array;
  u2: Uint16Array;
  u1: Uint8Array;
}[T];

/** Where a field's values live: a typed array, or an array of strings for `U<n>` fields. */
export type Column = NumericArray | string[];

export type CellValue = number | string;

interface NumericSpec {
  readonly kind: "number";
  readonly type: NumericType;
  /** Written values are truncated to integers (typed integer arrays do it themselves; i8 is float-backed). */
  readonly truncate: boolean;
  readonly make: (length: number) => NumericArray;
}

interface StringSpec {
  readonly kind: "string";
  readonly maxLength: number;
}

export type FieldSpec = NumericSpec | StringSpec;

const NUMERIC: Readonly<Record<NumericType, NumericSpec>> = {
  f8: { kind: "number", type: "f8", truncate: false, make: (n) => new Float64Array(n) },
  f4: { kind: "number", type: "f4", truncate: false, make: (n) => new Float32Array(n) },
  i8: { kind: "number", type: "i8", truncate: true, make: (n) => new Float64Array(n) },
  i4: { kind: "number", type: "i4", truncate: false, make: (n) => new Int32Array(n) },
  i2: { kind: "number", type: "i2", truncate: false, make: (n) => new Int16Array(n) },
  i1: { kind: "number", type: "i1", truncate: false, make: (n) => new Int8Array(n) },
  u4: { kind: "number", type: "u4", truncate: false, make: (n) => new Uint32Array(n) },
  u2: { kind: "number", type: "u2", truncate: false, make: (n) => new Uint16Array(n) },
  u1: { kind: "number", type: "u1", truncate: false, make: (n) => new Uint8Array(n) },
};

const ALIASES: Readonly<Record<string, NumericType>> = {
  float64: "f8", float_: "f8", double: "f8", float32: "f4",
  int64: "i8", int_: "i8", int32: "i4", int16: "i2", int8: "i1",
  uint32: "u4", uint16: "u2", uint8: "u1",
};

/** Reads a type name; an unknown one is a ConfigError naming `what` (e.g. "matrix 'M' field 'f1'"). */
export function fieldSpec(type: string, what: string): FieldSpec {
  const name = type.trim();
  const numeric = NUMERIC[name as NumericType] ?? NUMERIC[ALIASES[name.toLowerCase()] ?? ("" as NumericType)];
  if (numeric !== undefined) return numeric;
  const text = /^U(\d+)$/.exec(name);
  if (text !== null && Number(text[1]) > 0) return { kind: "string", maxLength: Number(text[1]) };
  throw new ConfigError(
    `${what}: unknown type '${type}' (f8, f4, i8, i4, i2, i1, u4, u2, u1, or U<n> for strings of at most n characters)`,
    {},
    "PUMP_CONFIG_VALUE",
  );
}

/** A numeric type only (time window cells). */
export function numericSpec(type: string, what: string): NumericSpec {
  const spec = fieldSpec(type, what);
  if (spec.kind !== "number") throw new ConfigError(`${what}: cells must be numbers, not '${type}'`, {}, "PUMP_CONFIG_VALUE");
  return spec;
}

export function allocate(spec: FieldSpec, length: number, fill: number): Column {
  if (spec.kind === "string") return Array.from({ length }, () => "");
  const array = spec.make(length);
  if (fill !== 0) array.fill(fill);
  return array;
}

/** A copy of `column` of `length` cells (longer: the rest filled; shorter: cut). */
export function resized(spec: FieldSpec, column: Column, length: number, fill: number): Column {
  const next = allocate(spec, length, fill);
  if (Array.isArray(column)) {
    const strings = next as string[];
    for (let i = 0; i < Math.min(length, column.length); i++) strings[i] = column[i]!;
  } else {
    (next as NumericArray).set(column.length > length ? column.subarray(0, length) : column);
  }
  return next;
}

/** A value as the field stores it: numbers from numbers, numeric strings, booleans or bigints (else NaN); strings cut to their length. */
export function coerce(spec: FieldSpec, value: unknown): CellValue {
  if (spec.kind === "string") return (value === undefined || value === null ? "" : String(value)).slice(0, spec.maxLength);
  let number: number;
  if (typeof value === "number") number = value;
  else if (typeof value === "bigint" || typeof value === "boolean") number = Number(value);
  else if (typeof value === "string" && value.trim() !== "") number = Number(value);
  else number = Number.NaN;
  if (!spec.truncate) return number;
  return Number.isFinite(number) ? Math.trunc(number) : 0;
}

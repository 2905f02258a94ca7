import { currentTime, dateToProtocolTimestamp, escape } from "@influxdata/influxdb-client";
import type { Precision } from "./connection.js";
import { InfluxDBEventError } from "./errors.js";

export type TagValue = string | number | boolean | null | undefined;
export type FieldValue = number | bigint | string | boolean | null | undefined;

/** A point as a dictionary: what BSPump's sink was meant to take (its TODO), and what the issue asks for. */
export interface InfluxPoint {
  measurement: string;
  tags?: Readonly<Record<string, TagValue>> | undefined;
  fields: Readonly<Record<string, FieldValue>>;
  /**
   * When: a `Date`; a number of **seconds** since the epoch (BSPump's convention, fractions kept to the
   * microsecond); a `bigint` or a string of digits in the connection's precision; an ISO 8601 string.
   * Missing: the time the sink takes the event.
   */
  time?: Date | number | bigint | string | undefined;
}

/** BSPump's tuple: measurement, tag set and field set as line protocol, and a time in seconds. */
export type InfluxTuple = readonly [measurement: string, tagSet: string, fieldSet: string, seconds?: number];

/** What the sink takes: a point, BSPump's tuple, or line protocol (a string or bytes, one or more lines). */
export type InfluxEvent = InfluxPoint | InfluxTuple | string | Uint8Array;

const decoder = new TextDecoder();
const DIGITS = /^-?\d+$/;
const MULTIPLIER: Record<Precision, number> = { s: 1, ms: 1e3, us: 1e6, ns: 1e9 };

/** Seconds (a float) as an integer timestamp in `precision`, exact to the microsecond. */
export function secondsToTimestamp(seconds: number, precision: Precision): string {
  if (!Number.isFinite(seconds)) throw new InfluxDBEventError(`the time ${seconds} is not a number of seconds`);
  if (precision === "ns") return (BigInt(Math.round(seconds * 1e6)) * 1000n).toString();
  return String(Math.round(seconds * MULTIPLIER[precision]));
}

/** The timestamp of a point's `time` in `precision`. */
export function toTimestamp(time: Date | number | bigint | string, precision: Precision): string {
  if (time instanceof Date) {
    if (Number.isNaN(time.getTime())) throw new InfluxDBEventError("the time is an invalid Date");
    return dateToProtocolTimestamp[precision](time)!;
  }
  if (typeof time === "number") return secondsToTimestamp(time, precision);
  if (typeof time === "bigint") return time.toString();
  if (DIGITS.test(time)) return time;
  const parsed = new Date(time);
  if (Number.isNaN(parsed.getTime())) throw new InfluxDBEventError(`the time '${time}' is neither digits nor an ISO 8601 date`);
  return dateToProtocolTimestamp[precision](parsed)!;
}

/**
 * Whether a line of line protocol ends with a timestamp: it has three parts separated by unescaped
 * spaces outside string field values (measurement and tags, fields, time).
 */
export function hasTimestamp(line: string): boolean {
  const text = line.trimEnd();
  let parts = 1;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
    } else if (c === '"' && parts === 2) {
      quoted = !quoted;
    } else if (c === " " && !quoted) {
      parts++;
      while (text[i + 1] === " ") i++;
    }
  }
  return parts >= 3;
}

/** Turns events into lines of line protocol, each with a timestamp (the current time where the event has none). */
export class LineEncoder {
  readonly precision: Precision;
  /** Fields written as integers (`12i`) when their value is a number; other numbers are floats. */
  readonly integerFields: ReadonlySet<string>;

  constructor(precision: Precision, integerFields: Iterable<string> = []) {
    this.precision = precision;
    this.integerFields = new Set(integerFields);
  }

  /** The current time in the precision: the default time of points without one. */
  now(): string {
    return currentTime[this.precision]();
  }

  /** The event's lines; throws an `InfluxDBEventError` for an event that cannot be one. */
  encode(event: unknown): string[] {
    if (typeof event === "string") return this.#raw(event);
    if (event instanceof Uint8Array) return this.#raw(decoder.decode(event));
    if (Array.isArray(event)) return [this.#tuple(event)];
    if (typeof event === "object" && event !== null) return [this.#point(event as InfluxPoint)];
    throw new InfluxDBEventError(`cannot write ${event === null ? "null" : typeof event} to InfluxDB: give a point {measurement, tags, fields, time}, a tuple or line protocol`);
  }

  #raw(text: string): string[] {
    const lines: string[] = [];
    for (const raw of text.split("\n")) {
      const line = raw.replace(/\r$/, "");
      if (line.trim() === "" || line.startsWith("#")) continue;
      lines.push(hasTimestamp(line) ? line : `${line.trimEnd()} ${this.now()}`);
    }
    if (lines.length === 0) throw new InfluxDBEventError("the event holds no line of line protocol");
    return lines;
  }

  #tuple(tuple: readonly unknown[]): string {
    const [measurement, tagSet, fieldSet, seconds] = tuple;
    if (tuple.length < 3 || typeof measurement !== "string" || typeof tagSet !== "string" || typeof fieldSet !== "string" || fieldSet === "") {
      throw new InfluxDBEventError("a tuple must be [measurement, tag set, field set, seconds]");
    }
    const time = seconds === undefined || seconds === null ? this.now() : secondsToTimestamp(Number(seconds), this.precision);
    return `${escape.measurement(measurement)}${tagSet === "" ? "" : `,${tagSet}`} ${fieldSet} ${time}`;
  }

  #point(point: InfluxPoint): string {
    const { measurement, tags, fields, time } = point;
    if (typeof measurement !== "string" || measurement === "") throw new InfluxDBEventError("the point has no measurement");
    if (typeof fields !== "object" || fields === null) throw new InfluxDBEventError(`the point of '${measurement}' has no fields`);
    let line = escape.measurement(measurement);
    if (tags !== undefined && tags !== null) {
      // Sorted, as InfluxDB recommends (it sorts them anyway).
      for (const key of Object.keys(tags).toSorted()) {
        const value = tags[key];
        if (value === undefined || value === null || value === "") continue;
        line += `,${escape.tag(key)}=${escape.tag(String(value))}`;
      }
    }
    let separator = " ";
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined || value === null) continue;
      line += `${separator}${escape.tag(key)}=${this.#field(measurement, key, value)}`;
      separator = ",";
    }
    if (separator === " ") throw new InfluxDBEventError(`the point of '${measurement}' has no fields with a value`);
    return `${line} ${time === undefined || time === null ? this.now() : toTimestamp(time, this.precision)}`;
  }

  #field(measurement: string, key: string, value: FieldValue): string {
    switch (typeof value) {
      case "number":
        if (!Number.isFinite(value)) throw new InfluxDBEventError(`field '${key}' of '${measurement}' is ${value}: InfluxDB stores finite numbers only`);
        if (this.integerFields.has(key)) {
          if (!Number.isSafeInteger(value)) throw new InfluxDBEventError(`field '${key}' of '${measurement}' is ${value}, not an integer`);
          return `${value}i`;
        }
        return String(value);
      case "bigint":
        return `${value}i`;
      case "boolean":
        return value ? "true" : "false";
      case "string":
        return escape.quoted(value);
      default:
        throw new InfluxDBEventError(`field '${key}' of '${measurement}' is ${typeof value}: give a number, bigint, string or boolean`);
    }
  }
}

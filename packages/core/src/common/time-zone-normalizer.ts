import type { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { Processor } from "../component/processor.js";
import type { ConfigValues } from "../config/config.js";
import { ConfigError, ParseError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { describeValue } from "./input.js";

/** A date and a wall-clock time with no time zone: Python's naive `datetime`. Months count from 1. */
export interface NaiveDateTime {
  year: number;
  month: number;
  day: number;
  hour?: number | undefined;
  minute?: number | undefined;
  second?: number | undefined;
  millisecond?: number | undefined;
}

const DAY_MS = 86_400_000;
const ISO =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/i;
const LONG_OFFSET = /^GMT(?:([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/** Epoch ms of a wall-clock time read as UTC (years below 100 stay as they are, unlike Date.UTC). */
function wallClockMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(wallClockMs(year, month + 1, 0, 0, 0, 0, 0)).getUTCDate();
}

/**
 * Base for processors that bring local times to UTC (BSPump's TimeZoneNormalizer; subclasses
 * implement `process` and call `normalize`). `timezone` is an IANA zone ("Europe/Prague") or an
 * alias Intl knows ("CET", the default); an unknown one is a ConfigError at construction. Only
 * `Intl` is used, no time-zone library.
 *
 * `normalize(local)` takes what Python calls a naive datetime: a `NaiveDateTime` or an ISO string
 * without an offset ("2000-12-30T23:59:59.000059"), read as wall-clock time in the zone, and gives
 * the instant as a Date (UTC). An ISO string with an offset ("...Z", "...+02:00") and a Date are
 * already instants (Python's aware datetimes) and are only converted. A wall-clock time that occurs
 * twice (when clocks go back) is read as standard time, and one that does not exist (when they go
 * forward) with the standard offset, as pytz's `localize()` does by default.
 *
 * Differences from BSPump: a Date holds milliseconds, so microseconds are cut off; and the class
 * is abstract for real (constructing it directly is a TypeError, which BSPump's test expects but
 * BSPump itself does not do).
 */
export abstract class TimeZoneNormalizer<In = unknown, Out = unknown> extends Processor<In, Out> {
  static override ConfigDefaults: ConfigValues = { timezone: "CET" };

  /** The zone as configured. */
  readonly timezone: string;
  readonly #offsets: Intl.DateTimeFormat;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    if (new.target === TimeZoneNormalizer) throw new TypeError("TimeZoneNormalizer is abstract: subclass it and implement process()");
    this.timezone = this.config.get("timezone").trim();
    try {
      this.#offsets = new Intl.DateTimeFormat("en-US", { timeZone: this.timezone, hour: "numeric", timeZoneName: "longOffset" });
    } catch (error) {
      throw new ConfigError(`unknown time zone '${this.timezone}' (${(error as Error).message})`, { section: this.config.section, key: "timezone" }, "PUMP_CONFIG_VALUE", { cause: error });
    }
  }

  /** The zone's offset from UTC at an instant, in milliseconds (CET in winter: 3 600 000). */
  offsetAt(epochMs: number): number {
    const name = this.#offsets.formatToParts(epochMs).find((part) => part.type === "timeZoneName")?.value ?? "GMT";
    const match = LONG_OFFSET.exec(name);
    if (match === null) throw new RangeError(`Unexpected offset '${name}' for time zone '${this.timezone}'`);
    const [, sign, hours, minutes, seconds] = match;
    const ms = (Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0)) * 1000;
    return sign === "-" ? -ms : ms;
  }

  /** A local (naive) date-time in the configured zone, or an instant, as a Date in UTC. */
  normalize(local: NaiveDateTime | string | Date): Date {
    if (local instanceof Date) {
      if (Number.isNaN(local.getTime())) throw new ParseError(this.locateAddress(), "cannot normalize an invalid Date");
      return new Date(local.getTime());
    }
    if (typeof local === "string") return this.#fromString(local);
    if (typeof local === "object" && local !== null) return new Date(this.#localToUtc(this.#wallClock(local, describeValue(local))));
    throw new ParseError(this.locateAddress(), `expected a date-time (an ISO string, a NaiveDateTime or a Date), got ${describeValue(local)}`);
  }

  #fromString(text: string): Date {
    const match = ISO.exec(text.trim());
    if (match === null) throw new ParseError(this.locateAddress(), `cannot read '${text}' as an ISO date-time (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][offset])`);
    const [, year, month, day, hour, minute, second, fraction, offset] = match;
    const wall = this.#wallClock(
      {
        year: Number(year),
        month: Number(month),
        day: Number(day),
        hour: Number(hour ?? 0),
        minute: Number(minute ?? 0),
        second: Number(second ?? 0),
        millisecond: fraction === undefined ? 0 : Number(fraction.padEnd(3, "0").slice(0, 3)),
      },
      `'${text}'`,
    );
    if (offset === undefined) return new Date(this.#localToUtc(wall));
    if (offset.toUpperCase() === "Z") return new Date(wall);
    const digits = offset.slice(1).replaceAll(":", "");
    const ms = (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0)) * 1000;
    return new Date(wall - (offset.startsWith("-") ? -ms : ms));
  }

  /** Epoch ms of the fields read as UTC, after checking them as Python's datetime does. */
  #wallClock(fields: NaiveDateTime, what: string): number {
    const { year, month, day, hour = 0, minute = 0, second = 0, millisecond = 0 } = fields;
    const check = (name: string, value: unknown, min: number, max: number): void => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new ParseError(this.locateAddress(), `cannot normalize ${what}: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
      }
    };
    check("year", year, -271_820, 275_759);
    check("month", month, 1, 12);
    check("day", day, 1, daysInMonth(year, month));
    check("hour", hour, 0, 23);
    check("minute", minute, 0, 59);
    check("second", second, 0, 59);
    check("millisecond", millisecond, 0, 999);
    return wallClockMs(year, month, day, hour, minute, second, millisecond);
  }

  /** The instant at which the zone's clocks show `wall` (read as UTC), pytz's `localize(is_dst=False)`. */
  #localToUtc(wall: number): number {
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const standard = Math.min(before, after);
    const valid = (before === after ? [before] : [before, after]).filter((offset) => this.offsetAt(wall - offset) === offset);
    if (valid.length === 1) return wall - valid[0]!;
    // Both valid: the time occurs twice (clocks went back); neither: it does not exist (clocks went
    // forward). pytz's default (is_dst=False) takes the standard offset in both cases.
    return wall - standard;
  }
}

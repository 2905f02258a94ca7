import { describe, expect, it } from "vitest";
import { ConfigError, Pipeline, type Context, type PumpApplication } from "../../src/index.js";
import { TimeZoneNormalizer, type NaiveDateTime } from "../../src/common/index.js";
import { createApp } from "../helpers.js";
import { harness } from "./harness.js";

type Stamped = { "@timestamp": NaiveDateTime | string | Date };

/** BSPump's test subclass: the event's "@timestamp" in, the normalized time out. */
class CustomTimeNormalizer extends TimeZoneNormalizer<Stamped, Date> {
  process(_context: Context, event: Stamped): Date {
    return this.normalize(event["@timestamp"]);
  }
}

function normalizer(config: Record<string, string> = {}): CustomTimeNormalizer {
  const app = createApp();
  return new CustomTimeNormalizer(app, new Pipeline(app, "P"), { config });
}

describe("TimeZoneNormalizer", () => {
  it("turns a naive CET time into UTC (BSPump's vector, to the millisecond)", async () => {
    const h = await harness((app, p) => [new CustomTimeNormalizer(app, p)]);
    await h.send([{ "@timestamp": { year: 2000, month: 12, day: 30, hour: 23, minute: 59, second: 59, millisecond: 0 } }, { "@timestamp": "2000-12-30T23:59:59.000059" }]);
    expect((h.output as Date[]).map((d) => d.toISOString())).toEqual(["2000-12-30T22:59:59.000Z", "2000-12-30T22:59:59.000Z"]);
  });

  it("constructing the abstract class itself is a TypeError (BSPump's vector)", () => {
    const app = createApp();
    const Abstract = TimeZoneNormalizer as unknown as new (app: PumpApplication, pipeline: Pipeline) => unknown;
    expect(() => new Abstract(app, new Pipeline(app, "P"))).toThrow(TypeError);
  });

  it("follows daylight saving time: CET is +02:00 in summer", () => {
    const n = normalizer();
    expect(n.normalize("2021-07-01 12:00").toISOString()).toBe("2021-07-01T10:00:00.000Z");
    expect(n.normalize({ year: 2021, month: 1, day: 1 }).toISOString()).toBe("2020-12-31T23:00:00.000Z");
  });

  it("reads the configured zone; negative offsets work", () => {
    expect(normalizer({ timezone: "America/New_York" }).normalize("2021-01-15T08:30:00").toISOString()).toBe("2021-01-15T13:30:00.000Z");
    expect(normalizer({ timezone: "Asia/Kolkata" }).normalize("2021-01-15T08:30:00").toISOString()).toBe("2021-01-15T03:00:00.000Z");
    expect(normalizer({ timezone: "UTC" }).normalize("2021-01-15T08:30:00.123").toISOString()).toBe("2021-01-15T08:30:00.123Z");
  });

  it("a time that occurs twice is read as standard time, a time that does not exist with the standard offset (pytz's localize default)", () => {
    const n = normalizer({ timezone: "Europe/Prague" });
    // 2021-10-31: 03:00 CEST → 02:00 CET, so 02:30 happens at 00:30Z and at 01:30Z
    expect(n.normalize("2021-10-31T02:30:00").toISOString()).toBe("2021-10-31T01:30:00.000Z");
    // 2021-03-28: 02:00 CET → 03:00 CEST, so 02:30 does not exist; pytz gives 02:30+01:00
    expect(n.normalize("2021-03-28T02:30:00").toISOString()).toBe("2021-03-28T01:30:00.000Z");
    // just around the transitions
    expect(n.normalize("2021-03-28T01:59:59").toISOString()).toBe("2021-03-28T00:59:59.000Z");
    expect(n.normalize("2021-03-28T03:00:00").toISOString()).toBe("2021-03-28T01:00:00.000Z");
    expect(n.normalize("2021-10-31T03:00:00").toISOString()).toBe("2021-10-31T02:00:00.000Z");
    const ny = normalizer({ timezone: "America/New_York" });
    expect(ny.normalize("2004-10-31T01:30:00").toISOString()).toBe("2004-10-31T06:30:00.000Z"); // EST, as pytz's is_dst=False
  });

  it("an instant (an ISO string with an offset, a Date) is only converted", () => {
    const n = normalizer();
    expect(n.normalize("2021-07-01T12:00:00Z").toISOString()).toBe("2021-07-01T12:00:00.000Z");
    expect(n.normalize("2021-07-01T12:00:00+05:30").toISOString()).toBe("2021-07-01T06:30:00.000Z");
    expect(n.normalize("2021-07-01T12:00:00-0800").toISOString()).toBe("2021-07-01T20:00:00.000Z");
    const date = new Date("2021-07-01T12:00:00Z");
    const out = n.normalize(date);
    expect(out.getTime()).toBe(date.getTime());
    expect(out).not.toBe(date);
  });

  it("keeps years below 100 as they are", () => {
    expect(normalizer({ timezone: "UTC" }).normalize({ year: 50, month: 3, day: 1 }).toISOString()).toBe("0050-03-01T00:00:00.000Z");
  });

  it("an impossible date-time is a ParseError naming the processor and the field", async () => {
    const h = await harness((app, p) => [new CustomTimeNormalizer(app, p)], { soft: true });
    const messages: string[] = [];
    h.pipeline.handleError = (error) => (messages.push((error as Error).message), true);
    await h.send([
      { "@timestamp": { year: 2021, month: 2, day: 29 } },
      { "@timestamp": "2021-13-01T00:00" },
      { "@timestamp": "yesterday" },
      { "@timestamp": new Date(Number.NaN) },
      { "@timestamp": 1234 as unknown as string },
      { "@timestamp": "2021-02-28T10:00" },
    ]);
    expect((h.output as Date[]).map((d) => d.toISOString())).toEqual(["2021-02-28T09:00:00.000Z"]);
    expect(messages).toEqual([
      "'P.CustomTimeNormalizer': cannot normalize an object: day must be an integer from 1 to 28, got 29",
      "'P.CustomTimeNormalizer': cannot normalize '2021-13-01T00:00': month must be an integer from 1 to 12, got 13",
      "'P.CustomTimeNormalizer': cannot read 'yesterday' as an ISO date-time (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][offset])",
      "'P.CustomTimeNormalizer': cannot normalize an invalid Date",
      "'P.CustomTimeNormalizer': expected a date-time (an ISO string, a NaiveDateTime or a Date), got a number",
    ]);
  });

  it("an unknown time zone is a ConfigError at construction", () => {
    expect(() => normalizer({ timezone: "Mars/Olympus_Mons" })).toThrow(ConfigError);
    expect(() => normalizer({ timezone: "Mars/Olympus_Mons" })).toThrow(/key 'timezone': unknown time zone 'Mars\/Olympus_Mons'/);
  });

  it("offsetAt gives the zone's offset at an instant", () => {
    const n = normalizer();
    expect(n.offsetAt(Date.UTC(2021, 0, 1))).toBe(3_600_000);
    expect(n.offsetAt(Date.UTC(2021, 6, 1))).toBe(7_200_000);
    expect(normalizer({ timezone: "America/St_Johns" }).offsetAt(Date.UTC(2021, 0, 1))).toBe(-(3.5 * 3_600_000));
  });
});

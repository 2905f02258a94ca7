import { Connection, Pipeline } from "@pump/core";
import { describe, expect, it } from "vitest";
import { hasTimestamp, InfluxDBConnection, InfluxDBEventError, InfluxDBSink, LineEncoder, secondsToTimestamp, toTimestamp } from "../../src/index.js";
import { createApp } from "../helpers.js";

class OtherConnection extends Connection {}

describe("LineEncoder", () => {
  const ns = new LineEncoder("ns", ["count"]);

  it("writes a point with escaped names, sorted tags, typed fields and its time", () => {
    expect(ns.encode({ measurement: "cpu load,x", tags: { z: "last", host: "a b", "k=v": "x,y", empty: "", none: null }, fields: { value: 0.5, count: 7, ok: false, note: 'a "q" \\', skip: undefined }, time: 1.5 })).toEqual([
      'cpu\\ load\\,x,host=a\\ b,k\\=v=x\\,y,z=last value=0.5,count=7i,ok=false,note="a \\"q\\" \\\\" 1500000000',
    ]);
    expect(ns.encode({ measurement: "m", fields: { big: 12345678901234567890n } })[0]).toMatch(/^m big=12345678901234567890i \d{19}$/);
  });

  it("takes times as Dates, seconds, bigints, digit strings and ISO dates, in the connection's precision", () => {
    expect(toTimestamp(new Date(1500), "ns")).toBe("1500000000");
    expect(toTimestamp(new Date(1500), "s")).toBe("1");
    expect(toTimestamp(1_700_000_000.123456, "ns")).toBe("1700000000123456000");
    expect(toTimestamp(1_700_000_000.5, "ms")).toBe("1700000000500");
    expect(toTimestamp(42n, "us")).toBe("42");
    expect(toTimestamp("42", "s")).toBe("42");
    expect(toTimestamp("1970-01-01T00:00:02Z", "ms")).toBe("2000");
    expect(secondsToTimestamp(2, "us")).toBe("2000000");
    expect(() => toTimestamp("yesterday", "ns")).toThrow(InfluxDBEventError);
  });

  it("takes BSPump's tuples and line protocol, adding the time a line lacks", () => {
    expect(ns.encode(["m", "t=1", "v=2", 3])).toEqual(["m,t=1 v=2 3000000000"]);
    expect(ns.encode(["m", "", "v=2", 3])).toEqual(["m v=2 3000000000"]);
    expect(ns.encode("m v=1 5\n\n# comment\nm v=2 6\r\n")).toEqual(["m v=1 5", "m v=2 6"]);
    expect(ns.encode(Buffer.from("m v=1 5"))).toEqual(["m v=1 5"]);
    const [stamped] = ns.encode('m,t=a\\ b s="x y" ');
    expect(stamped).toMatch(/^m,t=a\\ b s="x y" \d{19}$/);
  });

  it("tells whether a line has a timestamp, minding escapes and quoted strings", () => {
    expect(hasTimestamp("m v=1 123")).toBe(true);
    expect(hasTimestamp("m v=1")).toBe(false);
    expect(hasTimestamp("m v=1 ")).toBe(false);
    expect(hasTimestamp("m\\ x,t=a\\ b v=1")).toBe(false);
    expect(hasTimestamp('m s="a b c"')).toBe(false);
    expect(hasTimestamp('m s="a \\" b" 12')).toBe(true);
  });

  it("refuses what cannot be a point", () => {
    for (const bad of [42, null, { fields: { v: 1 } }, { measurement: "m" }, { measurement: "m", fields: {} }, { measurement: "m", fields: { v: Number.NaN } }, { measurement: "m", fields: { count: 1.5 } }, { measurement: "m", fields: { v: {} } }, "", ["m"]]) {
      expect(() => ns.encode(bad), JSON.stringify(bad)).toThrow(InfluxDBEventError);
    }
  });
});

describe("InfluxDBConnection and InfluxDBSink configuration", () => {
  it("reads BSPump's keys and the v2 ones, and checks them", () => {
    const app = createApp("[connection:A]\nurl=http://influx.example:8086/\ndb=metrics\nprecision=ms\n[connection:B]\nurl=https://h\nbucket=b/rp\norg=o\ntoken=secret\n");
    const a = new InfluxDBConnection(app, "A");
    expect([a.url, a.bucket, a.precision]).toEqual(["http://influx.example:8086", "metrics", "ms"]);
    expect(a.writePath).toBe("/api/v2/write?org=&bucket=metrics&precision=ms");
    expect([...a.retryStatuses]).toEqual([404, 429, 500, 502, 503, 504]);
    const b = new InfluxDBConnection(app, "B");
    expect(b.writePath).toBe("/api/v2/write?org=o&bucket=b%2Frp&precision=ns");
    expect(JSON.stringify(b.restGet())).not.toContain("secret");
    expect(() => new InfluxDBConnection(createApp(), { id: "X", config: { url: "ftp://x" } })).toThrow(/\[connection:X\] key 'url'/);
    expect(() => new InfluxDBConnection(createApp(), { id: "X", config: { precision: "m" } })).toThrow(/key 'precision'/);
    expect(() => new InfluxDBConnection(createApp(), { id: "X", config: { db: "" } })).toThrow(/key 'bucket'/);
  });

  it("the sink checks its keys and its connection, and refuses bad events from process()", () => {
    const app = createApp();
    app.pumpService.addConnection(new InfluxDBConnection(app, "InfluxDBConnection"));
    app.pumpService.addConnection(new OtherConnection(app, "Other"));
    const pipeline = new Pipeline(app, "P");
    expect(() => new InfluxDBSink(app, pipeline, "Other")).toThrow(/not an InfluxDBConnection/);
    expect(() => new InfluxDBSink(app, pipeline, "InfluxDBConnection", { config: { batch_size: 0 } })).toThrow(/key 'batch_size'/);
    const sink = new InfluxDBSink(app, pipeline, "InfluxDBConnection", { config: { integer_fields: "n, m" } });
    expect([...sink.encoder.integerFields]).toEqual(["n", "m"]);
    expect(() => sink.process({}, { measurement: "" } as never)).toThrow(InfluxDBEventError);
    sink.process({}, "m v=1 1");
    expect([sink.buffered, sink.bufferedBytes]).toEqual([1, 8]);
  });
});

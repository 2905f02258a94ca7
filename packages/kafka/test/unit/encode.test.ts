import { describe, expect, it } from "vitest";
import { encodeHeaders, encodeKey, encodeValue, KafkaEncodeError } from "../../src/index.js";

describe("encodeValue", () => {
  it("keeps bytes, encodes text in the sink's encoding, objects as JSON and null as a tombstone", () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(encodeValue(bytes, "utf-8")).toBe(bytes);
    expect(encodeValue(new Uint8Array([1, 2, 3]), "utf-8")).toEqual(Buffer.from([1, 2, 3]));
    expect(encodeValue("žluť", "utf-8")).toEqual(Buffer.from("žluť", "utf8"));
    expect(encodeValue("žluť", "latin1")).toEqual(Buffer.from("žluť", "latin1"));
    expect(encodeValue({ a: 1, b: [true, null] }, "utf-8")!.toString()).toBe('{"a":1,"b":[true,null]}');
    expect(encodeValue(42, "utf-8")!.toString()).toBe("42");
    expect(encodeValue(null, "utf-8")).toBeNull();
    expect(encodeValue(undefined, "utf-8")).toBeNull();
  });

  it("refuses what JSON cannot hold, with the package's encode error", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => encodeValue(cycle, "utf-8")).toThrow(KafkaEncodeError);
    expect(() => encodeValue(10n, "utf-8")).toThrow(/JSON/);
    expect(() => encodeValue(() => 1, "utf-8")).toThrow(/function event/);
  });
});

describe("encodeKey", () => {
  it("takes bytes, text (UTF-8) and numbers; no key for null", () => {
    expect(encodeKey(Buffer.from("k"))).toEqual(Buffer.from("k"));
    expect(encodeKey("klíč")).toEqual(Buffer.from("klíč", "utf8"));
    expect(encodeKey(17)).toEqual(Buffer.from("17"));
    expect(encodeKey(null)).toBeNull();
    expect(encodeKey(undefined)).toBeNull();
    expect(() => encodeKey({ id: 1 })).toThrow(KafkaEncodeError);
  });
});

describe("encodeHeaders", () => {
  it("takes an object or [name, value] pairs, repeats names as arrays, leaves out null values", () => {
    expect(encodeHeaders({ a: "1", b: Buffer.from([2]), c: null, d: ["x", "y"] })).toEqual({
      a: Buffer.from("1"),
      b: Buffer.from([2]),
      d: [Buffer.from("x"), Buffer.from("y")],
    });
    expect(encodeHeaders([["a", "1"], ["a", "2"], ["b", Buffer.from("3")]])).toEqual({ a: [Buffer.from("1"), Buffer.from("2")], b: Buffer.from("3") });
    expect(encodeHeaders({})).toBeUndefined();
    expect(encodeHeaders(undefined)).toBeUndefined();
    expect(() => encodeHeaders("a=1")).toThrow(KafkaEncodeError);
    expect(() => encodeHeaders([["a"]])).toThrow(/pairs/);
    expect(() => encodeHeaders({ a: { nested: true } })).toThrow(/header 'a'/);
  });
});

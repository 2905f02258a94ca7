import { describe, expect, it } from "vitest";
import { copyEvent } from "../../src/index.js";

describe("copyEvent", () => {
  it("deep-copies plain objects and arrays: the copy shares nothing mutable", () => {
    const event = { a: 1, nested: { list: [1, { b: "x" }] }, text: "t", none: null };
    const copy = copyEvent(event);
    expect(copy).toEqual(event);
    copy.nested.list.push(2);
    (copy.nested.list[1] as { b: string }).b = "changed";
    expect(event.nested.list).toEqual([1, { b: "x" }]);
  });

  it("copies Buffers as Buffers, and other objects (Date, Map) with structuredClone", () => {
    const buffer = Buffer.from("abc");
    const copy = copyEvent(buffer);
    expect(Buffer.isBuffer(copy)).toBe(true);
    copy[0] = 0x7a;
    expect(buffer.toString()).toBe("abc");
    const date = new Date(0);
    expect(copyEvent(date)).not.toBe(date);
    expect(copyEvent(date).getTime()).toBe(0);
    const map = new Map([["k", { v: 1 }]]);
    const mapCopy = copyEvent(map);
    mapCopy.get("k")!.v = 2;
    expect(map.get("k")!.v).toBe(1);
    expect(copyEvent(5)).toBe(5);
  });
});

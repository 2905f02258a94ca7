import { describe, expect, it } from "vitest";
import { DELIVERY, Delivery } from "@pump/core";
import { preview } from "../src/index.js";
import { HOSTILE } from "./pump.js";

function named(): void {}

describe("preview", () => {
  it("writes events as indented JSON, markup and all, as text", () => {
    expect(preview({ id: 1, note: HOSTILE })).toBe(JSON.stringify({ id: 1, note: HOSTILE }, null, 2));
    expect(preview("plain")).toBe('"plain"');
    expect(preview(undefined)).toBe('"[undefined]"');
    expect(preview(null)).toBe("null");
  });

  it("never throws: cycles, BigInts, bytes, errors, dates, maps, sets, functions, symbols", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const value = {
      cyclic,
      big: 12345678901234567890n,
      bytes: Buffer.from("hi"),
      error: Object.assign(new TypeError("bad"), { code: "E_BAD" }),
      date: new Date(0),
      map: new Map([["a", 1]]),
      set: new Set(["x"]),
      fn: named,
      nan: Number.NaN,
      sym: Symbol("s"),
    };
    expect(JSON.parse(preview(value))).toEqual({
      cyclic: { name: "loop", self: "[Circular]" },
      big: "12345678901234567890n",
      bytes: "[2 bytes: 6869]",
      error: { name: "TypeError", message: "bad", code: "E_BAD" },
      date: "1970-01-01T00:00:00.000Z",
      map: { a: 1 },
      set: { 0: "x" },
      fn: "[Function named]",
      nan: "NaN",
      sym: "Symbol(s)",
    });
  });

  it("leaves out the delivery a context carries (a symbol key)", () => {
    const context = { customer: "c-1", [DELIVERY]: new Delivery(() => {}, 1) };
    expect(JSON.parse(preview(context))).toEqual({ customer: "c-1" });
  });

  it("bounds size, depth and entries", () => {
    const long = preview({ text: "x".repeat(10_000) }, { maxChars: 100 });
    expect(long).toMatch(/^\{\n {2}"text": "x+… \(\d+ more characters\)$/);
    expect(long.length).toBeLessThan(140);
    expect(JSON.parse(preview({ a: { b: { c: { d: 1 } } } }, { maxDepth: 2 }))).toEqual({ a: { b: "[Object]" } });
    expect(JSON.parse(preview({ list: [[1, 2, 3]] }, { maxDepth: 1 }))).toEqual({ list: "[Array(1)]" });
    expect(JSON.parse(preview(Array.from({ length: 5 }, (_, i) => i), { maxEntries: 3 }))).toEqual([0, 1, 2, "[… 2 more]"]);
    expect(JSON.parse(preview({ a: 1, b: 2, c: 3 }, { maxEntries: 2 }))).toEqual({ a: 1, b: 2, "…": "1 more" });
  });

  it("shows a shared (not cyclic) object twice", () => {
    const shared = { n: 1 };
    expect(JSON.parse(preview({ a: shared, b: shared }))).toEqual({ a: { n: 1 }, b: { n: 1 } });
  });
});

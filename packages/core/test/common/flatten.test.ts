import { describe, expect, it } from "vitest";
import { FlattenDictProcessor } from "../../src/common/index.js";
import { until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

describe("FlattenDictProcessor", () => {
  it("flattens nested objects with '.' (BSPump's vector), an empty event to an empty object", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    await h.send([
      { person: { details: { first_name: "John", last_name: "Wick" }, address: { city: "Mill Neck", county: "USA" } } },
      {},
    ]);
    expect(h.output).toEqual([
      {
        "person.details.first_name": "John",
        "person.details.last_name": "Wick",
        "person.address.city": "Mill Neck",
        "person.address.county": "USA",
      },
      {}, // BSPump: {None: {}}
    ]);
    expect(Object.keys(h.output[0] as object)).toEqual(["person.details.first_name", "person.details.last_name", "person.address.city", "person.address.county"]);
  });

  it("keeps non-object values as they are: arrays, empty nested objects, falsy values, Dates, Buffers", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    const when = new Date(0);
    const bytes = Buffer.from("x");
    await h.send([{ a: { list: [{ x: 1 }], empty: {}, zero: 0, no: false, nil: null, s: "", when, bytes } }]);
    const out = h.output[0] as Record<string, unknown>;
    expect(out).toEqual({ "a.list": [{ x: 1 }], "a.empty": {}, "a.zero": 0, "a.no": false, "a.nil": null, "a.s": "", "a.when": when, "a.bytes": bytes });
    expect(out["a.when"]).toBe(when);
  });

  it("uses the configured separator and leaves the event as it was", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p, { config: { separator: "__" } })]);
    const event = { a: { b: { c: 1 } }, d: 2 };
    await h.send([event]);
    expect(h.output).toEqual([{ a__b__c: 1, d: 2 }]);
    expect(event).toEqual({ a: { b: { c: 1 } }, d: 2 });
  });

  it("flattens Maps as objects, turning their keys into strings", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    await h.send([new Map<unknown, unknown>([["m", new Map([[1, "one"]])], ["o", { p: true }], ["e", new Map()]])]);
    expect(h.output).toEqual([{ "m.1": "one", "o.p": true, e: new Map() }]);
  });

  it("an empty key keeps its separator, so keys do not merge (BSPump drops falsy prefixes)", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    await h.send([{ "": { a: 1 }, a: 2 }]);
    expect(h.output).toEqual([{ ".a": 1, a: 2 }]);
  });

  it("a '__proto__' key from JSON stays a key and does not change the result's prototype", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    await h.send([JSON.parse('{"__proto__": {"polluted": 1}, "x": {"__proto__": 2}}')]);
    const out = h.output[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__.polluted", "x.__proto__"]);
    expect(out["x.__proto__"]).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses an event that is not an object (BSPump makes it {None: event})", async () => {
    const h = await harness((app, p) => [new FlattenDictProcessor(app, p)]);
    void h.send(["text"]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe("'P.FlattenDictProcessor': expected an object to flatten, got a string");
    const soft = await harness((app, p) => [new FlattenDictProcessor(app, p)], { soft: true });
    await soft.send([[1, 2], null, { a: { b: 1 } }]);
    expect(soft.output).toEqual([{ "a.b": 1 }]);
    expect(soft.pipeline.metrics.warning).toBe(2);
  });
});

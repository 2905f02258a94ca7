import { unlinkSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ParseError } from "../../src/index.js";
import { DictionaryLookup, Lookup, MappingLookup, unregisterLookupProvider } from "../../src/lookup/index.js";
import { captureLogs } from "../helpers.js";
import { appWith, memory, tempDir, useMemoryProvider, type TempDir } from "./support.js";

let tmp: TempDir;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A DictionaryLookup over a JSON file, with the changes it published. */
function fileLookup(content: object | string, id = "Countries") {
  const path = tmp.write(`${id}.json`, content);
  const lookup = new DictionaryLookup<string>(appWith(), id, { config: { source_url: path } });
  const changes: unknown[][] = [];
  lookup.pubsub.subscribe("bspump.Lookup.changed!", (...args) => changes.push(args));
  return { lookup, path, changes };
}

describe("DictionaryLookup", () => {
  it("is a MappingLookup: loads a JSON object from its file and answers get/has/size/keys/values/entries/iteration", async () => {
    const { lookup } = fileLookup({ CZ: "Czechia", SK: "Slovakia" });
    expect(lookup).toBeInstanceOf(MappingLookup);
    expect(lookup).toBeInstanceOf(Lookup);
    expect(lookup.size).toBe(0);
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.get("CZ")).toBe("Czechia");
    expect(lookup.get("DE")).toBeUndefined();
    expect(lookup.has("SK")).toBe(true);
    expect(lookup.has("DE")).toBe(false);
    expect(lookup.size).toBe(2);
    expect([...lookup.keys()]).toEqual(["CZ", "SK"]);
    expect([...lookup.values()]).toEqual(["Czechia", "Slovakia"]);
    expect([...lookup.entries()]).toEqual([["CZ", "Czechia"], ["SK", "Slovakia"]]);
    expect([...lookup]).toEqual([["CZ", "Czechia"], ["SK", "Slovakia"]]);
    expect(new Map(lookup.dictionary)).toEqual(new Map([["CZ", "Czechia"], ["SK", "Slovakia"]]));
  });

  it("keys are only the dictionary's: no inherited properties, '__proto__' is an ordinary key", async () => {
    const { lookup } = fileLookup('{"__proto__": "proto", "a": "b"}');
    await lookup.update();
    expect(lookup.has("constructor")).toBe(false);
    expect(lookup.get("toString")).toBeUndefined();
    expect(lookup.get("__proto__")).toBe("proto");
    expect(new TextDecoder().decode(lookup.serialize())).toBe('{"__proto__":"proto","a":"b"}');
  });

  it("a reload replaces the dictionary: keys removed from the source are gone (BSPump merges and keeps them)", async () => {
    const { lookup, path, changes } = fileLookup({ CZ: "Czechia", SK: "Slovakia" });
    await lookup.update();
    tmp.write("Countries.json", { CZ: "Česko" });
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.has("SK")).toBe(false);
    expect(lookup.get("CZ")).toBe("Česko");
    expect(lookup.size).toBe(1);
    expect(changes).toEqual([["bspump.Lookup.changed!", lookup], ["bspump.Lookup.changed!", lookup]]);
    expect(path).toContain("Countries.json");
  });

  it("publishes changed! only when the content changed: the same bytes, or the same entries written differently, are no change", async () => {
    const { lookup, changes } = fileLookup({ a: 1, b: { c: [1, 2] } });
    await lookup.update();
    expect(changes).toHaveLength(1);
    await expect(lookup.update()).resolves.toBe(false);
    tmp.write("Countries.json", '{\n  "b": {"c": [1, 2]},\n  "a": 1\n}\n');
    await expect(lookup.update()).resolves.toBe(false);
    expect(changes).toHaveLength(1);
    tmp.write("Countries.json", '{"b": {"c": [2, 1]}, "a": 1}');
    await expect(lookup.update()).resolves.toBe(true);
    expect(changes).toHaveLength(2);
    expect(lookup.changedAt).toBeDefined();
  });

  it("does not even parse data that is byte for byte what it loaded last", async () => {
    const { lookup } = fileLookup({ a: 1 });
    const deserialize = vi.spyOn(lookup, "deserialize");
    await lookup.update();
    await lookup.update();
    expect(deserialize).toHaveBeenCalledTimes(1);
    tmp.write("Countries.json", { a: 2 });
    await lookup.update();
    expect(deserialize).toHaveBeenCalledTimes(2);
  });

  it("data that is not JSON is a ParseError naming the lookup; the old data stays and nothing is published", async () => {
    const { lookup, changes } = fileLookup({ a: "1" });
    await lookup.update();
    tmp.write("Countries.json", '{"a": "2",');
    const failed = lookup.update();
    await expect(failed).rejects.toThrow(ParseError);
    await expect(failed).rejects.toThrow(/'lookup:Countries': cannot deserialize the loaded data/);
    expect(lookup.get("a")).toBe("1");
    expect(changes).toHaveLength(1);
    // fixed: loads again (the broken bytes were not taken for the current version)
    tmp.write("Countries.json", { a: "3" });
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.get("a")).toBe("3");
  });

  it.each([
    ["an array", utf8("[1, 2]"), /expected a JSON object, got an array/],
    ["null", utf8("null"), /expected a JSON object, got null/],
    ["a string", utf8('"x"'), /expected a JSON object, got string/],
    ["bytes that are not UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), /cannot deserialize the loaded data/],
  ])("%s is not a dictionary: ParseError, and the dictionary is kept", (_what, data, message) => {
    const lookup = new DictionaryLookup(appWith(), "L");
    lookup.set({ kept: true });
    expect(() => lookup.deserialize(data)).toThrow(ParseError);
    expect(() => lookup.deserialize(data)).toThrow(message);
    expect(lookup.get("kept")).toBe(true);
  });

  it("serializes to a JSON object another lookup deserializes to the same content (a master and its slave)", () => {
    const master = new DictionaryLookup<number>(appWith(), "Master");
    master.set({ x: 1, y: 2 });
    const slave = new DictionaryLookup<number>(appWith(), "Slave");
    expect(slave.deserialize(master.serialize())).toBe(true);
    expect([...slave]).toEqual([["x", 1], ["y", 2]]);
    expect(slave.deserialize(master.serialize())).toBe(false);
  });

  it("set() replaces the whole dictionary from a record, a Map or entries, and publishes only a real change", () => {
    const lookup = new DictionaryLookup<number>(appWith(), "L");
    const changes: unknown[] = [];
    lookup.pubsub.subscribe("bspump.Lookup.changed!", (_m, who) => changes.push(who));
    expect(lookup.set({ a: 1, b: 2 })).toBe(true);
    expect(lookup.set(new Map([["a", 1], ["b", 2]]))).toBe(false);
    expect(lookup.set([["c", 3]])).toBe(true);
    expect([...lookup]).toEqual([["c", 3]]);
    expect(changes).toEqual([lookup, lookup]);
  });

  it("set() on a slave warns that the next load replaces it", () => {
    useMemoryProvider();
    const logs = captureLogs();
    try {
      const lookup = new DictionaryLookup(appWith(), "L", { config: { source_url: "mem:slave" } });
      lookup.set({ a: 1 });
      expect(lookup.get("a")).toBe(1);
      expect(logs.records.some((r) => r.level === "warn" && /copies a master/.test(r.message))).toBe(true);
    } finally {
      logs.restore();
      unregisterLookupProvider("mem:");
    }
  });

  it("after set(), the next load applies the source again even if its bytes did not change", async () => {
    const { lookup } = fileLookup({ a: "file" });
    await lookup.update();
    lookup.set({ a: "code" });
    expect(lookup.get("a")).toBe("code");
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.get("a")).toBe("file");
  });

  it("a missing file keeps the data the lookup has, with a warning; nothing is published", async () => {
    const logs = captureLogs();
    try {
      const { lookup, path, changes } = fileLookup({ a: "1" });
      await lookup.update();
      unlinkSync(path);
      await expect(lookup.update()).resolves.toBe(false);
      expect(lookup.get("a")).toBe("1");
      expect(changes).toHaveLength(1);
      expect(logs.records.some((r) => r.level === "warn" && r.message.includes(path) && /does not exist/.test(r.message))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("restGet() shows id, class, size, ETag and whether it is loaded", async () => {
    const { lookup } = fileLookup({ a: "1", b: "2" });
    expect(lookup.restGet()).toEqual({ Id: "Countries", Class: "DictionaryLookup", Lazy: false, Loaded: false, Size: 0 });
    await lookup.update();
    expect(lookup.restGet()).toEqual({ Id: "Countries", Class: "DictionaryLookup", Lazy: false, Loaded: true, Size: 2, ETag: lookup.provider!.etag });
    expect(lookup.provider!.etag).toMatch(/^[0-9a-f]{40}$/);
  });

  it("a provider's data reaches deserialize() through loadFromProvider()", async () => {
    useMemoryProvider();
    try {
      memory.set("dict", '{"k": "v"}');
      const lookup = new DictionaryLookup(appWith(), "L", { config: { source_url: "mem:dict" } });
      await lookup.update();
      expect(lookup.get("k")).toBe("v");
      memory.set("dict", undefined);
      await expect(lookup.update()).resolves.toBe(false);
      expect(lookup.get("k")).toBe("v");
    } finally {
      unregisterLookupProvider("mem:");
      memory.clear();
    }
  });
});

describe("MappingLookup", () => {
  it("derives values(), entries() and iteration from get/has/size/keys", async () => {
    class Squares extends MappingLookup<number, number> {
      get(key: number): number | undefined {
        return key >= 0 && key < 4 ? key * key : undefined;
      }
      has(key: number): boolean {
        return this.get(key) !== undefined;
      }
      get size(): number {
        return 4;
      }
      *keys(): IterableIterator<number> {
        yield* [0, 1, 2, 3];
      }
    }
    const squares = new Squares(appWith(), "Squares");
    expect([...squares.values()]).toEqual([0, 1, 4, 9]);
    expect([...squares]).toEqual([[0, 0], [1, 1], [2, 4], [3, 9]]);
    expect(squares.restGet()).toMatchObject({ Id: "Squares", Class: "Squares", Size: 4 });
    // no source_url: loading has nothing to do
    await expect(squares.update()).resolves.toBe(false);
  });
});

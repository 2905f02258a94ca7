import { describe, expect, it } from "vitest";
import {
  MappingItemsGenerator,
  MappingItemsProcessor,
  MappingKeysGenerator,
  MappingKeysProcessor,
  MappingValuesGenerator,
  MappingValuesProcessor,
  MappingTransformator,
  type ItemTransform,
} from "../../src/common/index.js";
import { BufferSink, settleLog, until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

const VECTOR = [{ foo: "bar" }, { fizz: "buzz" }, { spam: "eggs" }];

describe("mapping processors (BSPump's vectors)", () => {
  it("MappingKeysProcessor gives the list of keys", async () => {
    const h = await harness((app, p) => [new MappingKeysProcessor(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual([["foo"], ["fizz"], ["spam"]]);
  });

  it("MappingValuesProcessor gives the list of values", async () => {
    const h = await harness((app, p) => [new MappingValuesProcessor(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual([["bar"], ["buzz"], ["eggs"]]);
  });

  it("MappingItemsProcessor gives the list of [key, value] pairs", async () => {
    const h = await harness((app, p) => [new MappingItemsProcessor(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual([[["foo", "bar"]], [["fizz", "buzz"]], [["spam", "eggs"]]]);
  });

  it("take a Map too, with keys of any type", async () => {
    const h = await harness((app, p) => [new MappingItemsProcessor<number, string>(app, p)]);
    await h.send([new Map([[1, "one"], [2, "two"]])]);
    expect(h.output).toEqual([[[1, "one"], [2, "two"]]]);
    const k = await harness((app, p) => [new MappingKeysProcessor(app, p)]);
    await k.send([new Map<unknown, string>([[{ id: 1 }, "x"], [null, "y"]])]);
    expect(k.output).toEqual([[{ id: 1 }, null]]);
  });

  it("refuse what is not a mapping: an array, a string", async () => {
    const h = await harness((app, p) => [new MappingKeysProcessor(app, p)]);
    void h.send([["a"]]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe("'P.MappingKeysProcessor': expected a mapping (an object or a Map), got an array");
    const soft = await harness((app, p) => [new MappingValuesProcessor(app, p)], { soft: true });
    await soft.send(["abc", { a: 1 }]);
    expect(soft.output).toEqual([[1]]);
    expect(soft.pipeline.metrics.warning).toBe(1);
  });
});

describe("mapping generators (BSPump's vectors)", () => {
  it("MappingKeysGenerator makes one event per key", async () => {
    const h = await harness((app, p) => [new MappingKeysGenerator(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual(["foo", "fizz", "spam"]);
  });

  it("MappingValuesGenerator makes one event per value", async () => {
    const h = await harness((app, p) => [new MappingValuesGenerator(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual(["bar", "buzz", "eggs"]);
  });

  it("MappingItemsGenerator makes one event per item", async () => {
    const h = await harness((app, p) => [new MappingItemsGenerator(app, p)]);
    await h.send(VECTOR);
    expect(h.output).toEqual([["foo", "bar"], ["fizz", "buzz"], ["spam", "eggs"]]);
  });

  it("each generated event gets a copy of the context; a Map works too", async () => {
    const h = await harness((app, p) => [new MappingValuesGenerator(app, p)]);
    await h.send([new Map([["a", 1], ["b", 2]])], [{ source: "s" }]);
    expect(h.output).toEqual([1, 2]);
    expect(h.sink.contexts).toEqual([{ source: "s" }, { source: "s" }]);
    expect(h.sink.contexts[0]).not.toBe(h.sink.contexts[1]);
  });

  it("the source's delivery settles once, when every generated event was delivered", async () => {
    const h = await harness((app, p) => [new MappingKeysGenerator(app, p), new BufferSink(app, p)]);
    const log = settleLog();
    await h.send([{ a: 1, b: 2, c: 3 }], [log.track(1)]);
    expect(log.settled).toEqual([]);
    (h.pipeline.locateProcessor("BufferSink") as BufferSink).flush();
    expect(log.settled).toEqual([{ token: 1, error: undefined }]);
  });

  it("a non-mapping is a ParseError; soft, the pipeline goes on", async () => {
    const h = await harness((app, p) => [new MappingItemsGenerator(app, p)], { soft: true });
    await h.send([42, { a: 1 }]);
    expect(h.output).toEqual([["a", 1]]);
    expect(h.pipeline.metrics.warning).toBe(1);
  });
});

class Renamer extends MappingTransformator {
  build(): Record<string, ItemTransform> {
    return {
      name: (_key, value) => ["full_name", String(value).toUpperCase()],
      age: (key, value) => [key, Number(value)],
    };
  }
}

class RenamerWithDefault extends Renamer {
  override default(key: string, value: unknown): readonly [string, unknown] {
    return [`x_${key}`, value];
  }
}

describe("MappingTransformator", () => {
  it("transforms the items build() names and passes the others unchanged, into a new object", async () => {
    const h = await harness((app, p) => [new Renamer(app, p)]);
    const event = { name: "ada", age: "36", city: "London" };
    await h.send([event]);
    expect(h.output).toEqual([{ full_name: "ADA", age: 36, city: "London" }]);
    expect(h.output[0]).not.toBe(event);
    expect(event).toEqual({ name: "ada", age: "36", city: "London" });
  });

  it("sends the items build() does not name through default() when the subclass defines it", async () => {
    const h = await harness((app, p) => [new RenamerWithDefault(app, p)]);
    await h.send([{ name: "ada", city: "London" }]);
    expect(h.output).toEqual([{ full_name: "ADA", x_city: "London" }]);
  });

  it("takes a Map, and a build() that returns a Map; a key made twice keeps the later value", async () => {
    class Merge extends MappingTransformator {
      build(): Map<string, ItemTransform> {
        return new Map<string, ItemTransform>([["first", (_k, v) => ["name", v]], ["last", (_k, v) => ["name", v]]]);
      }
    }
    const h = await harness((app, p) => [new Merge(app, p)]);
    await h.send([new Map([["first", "Ada"], ["last", "Lovelace"]])]);
    expect(h.output).toEqual([{ name: "Lovelace" }]);
  });

  it("a 'constructor' or '__proto__' key is an ordinary key", async () => {
    const h = await harness((app, p) => [new Renamer(app, p)]);
    await h.send([JSON.parse('{"constructor": 1, "__proto__": 2}')]);
    expect(Object.getPrototypeOf(h.output[0])).toBe(Object.prototype);
    expect(Object.entries(h.output[0] as object)).toEqual([["constructor", 1], ["__proto__", 2]]);
  });

  it("refuses what is not a mapping", async () => {
    const h = await harness((app, p) => [new Renamer(app, p)], { soft: true });
    await h.send([[1], { age: "1" }]);
    expect(h.output).toEqual([{ age: 1 }]);
    expect(h.pipeline.metrics.warning).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { DictToJsonBytesParser, StdDictToJsonParser, StdJsonToDictParser, jsonDumps } from "../../src/common/index.js";
import { ParseError } from "../../src/errors.js";
import { jsonErrorPosition } from "../../src/common/json-error-position.js";
import { until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

describe("StdJsonToDictParser", () => {
  it("parses JSON text (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)]);
    await h.send(['{"key": "1"}', '{"key": "2"}', '{"key": "3"}']);
    expect(h.output).toEqual([{ key: "1" }, { key: "2" }, { key: "3" }]);
  });

  it("parses JSON bytes as UTF-8, skipping a BOM", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)]);
    await h.send([Buffer.from('{"name": "Dvořák"}'), new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from("[1, 2]")])]);
    expect(h.output).toEqual([{ name: "Dvořák" }, [1, 2]]);
  });

  it("refuses what is not a string or bytes (BSPump's vector: a dict)", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)]);
    void h.send([{ "Not a": "string" }]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe("'P.StdJsonToDictParser': expected JSON text (a string or bytes), got an object");
    expect(h.output).toEqual([]);
  });

  it("invalid JSON is a ParseError naming the position, line and column, with the SyntaxError as cause", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)]);
    void h.send(['{\n  "a": 1,\n  "b": tru\n}']);
    await until(() => h.pipeline.isError());
    const error = parseErrorOf(h.pipeline);
    expect(error.message).toMatch(/^'P.StdJsonToDictParser': invalid JSON at position 22 \(line 3, column 11\): /);
    expect(error.position).toBe(22);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it("names the position also where V8's message does not (an unexpected character, the end of the input)", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)], { soft: true });
    const caught: ParseError[] = [];
    h.pipeline.handleError = (error) => (caught.push(error as ParseError), true);
    await h.send(["é", '{"a": [1, 2', "", "[1] x"]);
    expect(caught.map((e) => e.position)).toEqual([0, 11, 0, 4]);
    expect(caught[0]!.message).toBe(`'P.StdJsonToDictParser': invalid JSON at position 0 (line 1, column 1): Unexpected token 'é', "é" is not valid JSON`);
    expect(caught[1]!.message).toMatch(/at position 11 \(line 1, column 12\)/);
    expect(h.pipeline.metrics.warning).toBe(4);
  });

  it("bytes that are not UTF-8 are a ParseError", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)], { soft: true });
    await h.send([Buffer.from([0x22, 0xff, 0x22]), "1"]);
    expect(h.output).toEqual([1]);
    expect(h.pipeline.metrics.warning).toBe(1);
  });

  it("JSON null gives no event (BSPump's None): the event is dropped", async () => {
    const h = await harness((app, p) => [new StdJsonToDictParser(app, p)]);
    await h.send(["null", "0", "false"]);
    expect(h.output).toEqual([0, false]);
    expect(h.pipeline.metrics.drop).toBe(1);
  });

  it("jsonErrorPosition agrees with V8 wherever V8 names the position", () => {
    const samples = ['{"a":1,}', "[1,2", '{"a" 1}', '"abc', "1 2", '{"a":1}x', "[01]", '"\\x"', '"\\u12G4"', "-", "1.", "1e", '{"a":1', "[,1]", "{,}", '"a\nb"', "[1,]", "nul", "  ", "[1 2]"];
    for (const text of samples) {
      let v8: number | undefined;
      try {
        JSON.parse(text);
      } catch (error) {
        const m = / at position (\d+)/.exec((error as Error).message);
        if (m !== null) v8 = Number(m[1]);
        else if ((error as Error).message.includes("Unexpected end")) v8 = text.length;
      }
      if (v8 !== undefined) expect([text, jsonErrorPosition(text)]).toEqual([text, v8]);
      else expect(jsonErrorPosition(text)).toBeGreaterThanOrEqual(0);
    }
    for (const ok of ['{"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]}', " 1 ", '""']) expect(jsonErrorPosition(ok)).toBe(-1);
  });
});

describe("StdDictToJsonParser", () => {
  it("writes JSON as Python's json.dumps does (the vector of BSPump's DictToJsonParser test)", async () => {
    const h = await harness((app, p) => [new StdDictToJsonParser(app, p)]);
    await h.send([{ foo: "bar" }, { fizz: "buzz" }, { spam: "eggs" }]);
    expect(h.output).toEqual(['{"foo": "bar"}', '{"fizz": "buzz"}', '{"spam": "eggs"}']);
  });

  it("spaces separators only outside strings, and escapes non-ASCII as Python's ensure_ascii", async () => {
    const h = await harness((app, p) => [new StdDictToJsonParser(app, p)]);
    await h.send([{ a: [1, { b: "x, y: \"z\"" }], "k:,": "é😀\u007f", n: null }, "plain", [1, 2]]);
    expect(h.output).toEqual([
      '{"a": [1, {"b": "x, y: \\"z\\""}], "k:,": "\\u00e9\\ud83d\\ude00\\u007f", "n": null}',
      '"plain"',
      "[1, 2]",
    ]);
  });

  it("compact and ensure_ascii=false give plain JSON.stringify", async () => {
    const h = await harness((app, p) => [new StdDictToJsonParser(app, p, { config: { compact: true, ensure_ascii: false } })]);
    const event = { a: [1, { b: "é, x: y" }] };
    await h.send([event]);
    expect(h.output).toEqual([JSON.stringify(event)]);
  });

  it("a value JSON cannot hold is a ParseError naming the problem", async () => {
    const h = await harness((app, p) => [new StdDictToJsonParser(app, p)], { soft: true });
    const messages: string[] = [];
    h.pipeline.handleError = (error) => (messages.push((error as Error).message), true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await h.send([{ n: 1n }, cyclic, undefined, { ok: true }]);
    expect(h.output).toEqual(['{"ok": true}']);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^'P.StdDictToJsonParser': cannot write an object as JSON: .*BigInt/);
    expect(messages[1]).toMatch(/circular/i);
    expect(messages[2]).toBe("'P.StdDictToJsonParser': cannot write undefined as JSON: undefined has no JSON form");
  });
});

describe("DictToJsonBytesParser", () => {
  it("writes an object as JSON bytes in Python's form", async () => {
    const h = await harness((app, p) => [new DictToJsonBytesParser(app, p)]);
    await h.send([{ foo: "bar", n: [1, 2] }, { name: "Dvořák" }]);
    expect(h.output).toEqual([Buffer.from('{"foo": "bar", "n": [1, 2]}'), Buffer.from('{"name": "Dvo\\u0159\\u00e1k"}')]);
  });

  it("encodes in the configured encoding", async () => {
    const h = await harness((app, p) => [new DictToJsonBytesParser(app, p, { config: { encoding: "utf-16le", ensure_ascii: false, compact: true } })]);
    await h.send([{ a: "é" }]);
    expect(h.output).toEqual([Buffer.from('{"a":"é"}', "utf16le")]);
  });

  it("refuses what is not an object (BSPump's vector: a string), an array, a Map", async () => {
    const h = await harness((app, p) => [new DictToJsonBytesParser(app, p)]);
    void h.send(["Not a dictionary"]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe("'P.DictToJsonBytesParser': expected an object, got a string");
    expect(h.output).toEqual([]);
    const soft = await harness((app, p) => [new DictToJsonBytesParser(app, p)], { soft: true });
    await soft.send([[1], new Map([["a", 1]]), { ok: 1 }]);
    expect(soft.output).toEqual([Buffer.from('{"ok": 1}')]);
    expect(soft.pipeline.metrics.warning).toBe(2);
  });

  it("without ensure_ascii, text the encoding cannot express is a ParseError", async () => {
    const h = await harness((app, p) => [new DictToJsonBytesParser(app, p, { config: { encoding: "ascii", ensure_ascii: false } })], { soft: true });
    await h.send([{ a: "é" }, { a: "e" }]);
    expect(h.output).toEqual([Buffer.from('{"a": "e"}')]);
    expect(h.pipeline.metrics.warning).toBe(1);
  });
});

describe("jsonDumps", () => {
  it("matches Python's json.dumps byte for byte on typical events", () => {
    // python3 -c 'import json; print(json.dumps({"id": 7, "tags": ["a", "b"], "geo": {"lat": 50.1, "lon": -14.4}, "t": "Praha \u2013 Brno", "ok": True, "none": None}))'
    expect(jsonDumps({ id: 7, tags: ["a", "b"], geo: { lat: 50.1, lon: -14.4 }, t: "Praha – Brno", ok: true, none: null }, { compact: false, ensureAscii: true })).toBe(
      '{"id": 7, "tags": ["a", "b"], "geo": {"lat": 50.1, "lon": -14.4}, "t": "Praha \\u2013 Brno", "ok": true, "none": null}',
    );
    expect(jsonDumps({}, { compact: false, ensureAscii: true })).toBe("{}");
    expect(jsonDumps([], { compact: false, ensureAscii: true })).toBe("[]");
  });
});

import { describe, expect, it } from "vitest";
import { ConfigError, Pipeline } from "../../src/index.js";
import { BytesToStringParser, StringToBytesParser } from "../../src/common/index.js";
import { ParseError } from "../../src/errors.js";
import { createApp, until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

describe("StringToBytesParser", () => {
  it("encodes strings to bytes (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new StringToBytesParser(app, p)]);
    await h.send(["some string", "another string", "last string"]);
    expect(h.output.every((e) => Buffer.isBuffer(e))).toBe(true);
    expect((h.output as Buffer[]).map((b) => b.toString("latin1")).toSorted()).toEqual(["another string", "last string", "some string"]);
  });

  it("refuses what is not a string: a hard error naming the processor, no output (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new StringToBytesParser(app, p)]);
    const pending = h.send([Buffer.from("Not a string"), "after"]);
    await until(() => h.pipeline.isError(), "the error");
    const error = parseErrorOf(h.pipeline);
    expect(error.code).toBe("PUMP_PARSE");
    expect(error.message).toBe("'P.StringToBytesParser': expected a string, got a Buffer");
    expect(error.component).toBe("P.StringToBytesParser");
    expect(h.output).toEqual([]);
    h.pipeline.clearError();
    await pending;
    expect(h.output).toEqual([Buffer.from("after")]);
  });

  it("with a soft handleError drops the bad event, counts a warning and goes on", async () => {
    const h = await harness((app, p) => [new StringToBytesParser(app, p)], { soft: true });
    await h.send(["a", 42, "b"]);
    expect(h.output).toEqual([Buffer.from("a"), Buffer.from("b")]);
    expect(h.pipeline.metrics.warning).toBe(1);
    expect(h.pipeline.isError()).toBe(false);
  });

  it("encodes in the configured encoding, by Node's or Python's name", async () => {
    const h = await harness((app, p) => [
      new StringToBytesParser(app, p, { id: "Latin", config: { encoding: "latin-1" } }),
    ]);
    await h.send(["é"]);
    expect(h.output).toEqual([Buffer.from([0xe9])]);
    const u = await harness((app, p) => [new StringToBytesParser(app, p, { config: { encoding: "UTF_16_LE" } })]);
    await u.send(["hi"]);
    expect(u.output).toEqual([Buffer.from([0x68, 0x00, 0x69, 0x00])]);
  });

  it("strict: a character the encoding cannot express is a ParseError; replace puts '?'", async () => {
    const strict = await harness((app, p) => [new StringToBytesParser(app, p, { config: { encoding: "ascii" } })], { soft: true });
    await strict.send(["naïve", "plain"]);
    expect(strict.output).toEqual([Buffer.from("plain")]);
    expect(strict.pipeline.metrics.warning).toBe(1);
    const replace = await harness((app, p) => [new StringToBytesParser(app, p, { config: { encoding: "ascii", errors: "replace" } })]);
    await replace.send(["naïve 😀"]);
    expect(replace.output).toEqual([Buffer.from("na?ve ?")]);
  });

  it("strict: a lone surrogate does not silently become U+FFFD in UTF-8", async () => {
    const h = await harness((app, p) => [new StringToBytesParser(app, p)]);
    void h.send(["a\ud800b"]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toMatch(/cannot encode the string: 'utf8' cannot encode the lone surrogate at index 1/);
  });

  it("an unknown encoding or errors mode is a ConfigError at construction", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    expect(() => new StringToBytesParser(app, p, { config: { encoding: "klingon" } })).toThrow(ConfigError);
    expect(() => new StringToBytesParser(app, p, { config: { encoding: "klingon" } })).toThrow(/\[pipeline:P:StringToBytesParser\] key 'encoding': unknown encoding 'klingon'/);
    // TextDecoder can decode windows-1250 but nothing in Node encodes to it
    expect(() => new StringToBytesParser(app, p, { config: { encoding: "windows-1250" } })).toThrow(/unknown encoding 'windows-1250' to encode/);
    expect(() => new StringToBytesParser(app, p, { config: { errors: "ignore" } })).toThrow(/key 'errors': expected 'strict' or 'replace'/);
  });
});

describe("BytesToStringParser", () => {
  it("decodes bytes to strings (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new BytesToStringParser(app, p)]);
    await h.send([Buffer.from("some bytes"), Buffer.from("another bytes"), Buffer.from("last bytes")]);
    expect((h.output as string[]).toSorted()).toEqual(["another bytes", "last bytes", "some bytes"]);
  });

  it("takes a Uint8Array that is not a Buffer, and a view into a larger buffer", async () => {
    const h = await harness((app, p) => [new BytesToStringParser(app, p)]);
    const backing = new TextEncoder().encode("xxhelloxx");
    await h.send([new TextEncoder().encode("žluťoučký"), backing.subarray(2, 7)]);
    expect(h.output).toEqual(["žluťoučký", "hello"]);
  });

  it("refuses what is not bytes: a string (BSPump's vector), a number", async () => {
    for (const bad of ["Not a bytes", 42]) {
      const h = await harness((app, p) => [new BytesToStringParser(app, p)]);
      void h.send([bad]);
      await until(() => h.pipeline.isError());
      const error = parseErrorOf(h.pipeline);
      expect(error).toBeInstanceOf(ParseError);
      expect(error.message).toBe(`'P.BytesToStringParser': expected bytes (a Uint8Array or Buffer), got ${typeof bad === "string" ? "a string" : "a number"}`);
      expect(h.output).toEqual([]);
    }
  });

  it("strict: bytes that are not valid UTF-8 are a ParseError with the decoder's error as cause; replace gives U+FFFD", async () => {
    const strict = await harness((app, p) => [new BytesToStringParser(app, p)]);
    void strict.send([Buffer.from([0x61, 0xff, 0x62])]);
    await until(() => strict.pipeline.isError());
    const error = parseErrorOf(strict.pipeline);
    expect(error.message).toMatch(/^'P.BytesToStringParser': cannot decode the bytes as utf8: /);
    expect(error.cause).toBeInstanceOf(TypeError);
    const replace = await harness((app, p) => [new BytesToStringParser(app, p, { config: { errors: "replace" } })]);
    await replace.send([Buffer.from([0x61, 0xff, 0x62])]);
    expect(replace.output).toEqual(["a\ufffdb"]);
  });

  it("keeps a UTF-8 byte order mark as U+FEFF, as Python's utf-8 codec does", async () => {
    const h = await harness((app, p) => [new BytesToStringParser(app, p)]);
    await h.send([Buffer.from([0xef, 0xbb, 0xbf, 0x61])]);
    expect(h.output).toEqual(["\ufeffa"]);
  });

  it("decodes Node encodings and WHATWG labels; ascii is strict about the high bit", async () => {
    const h = await harness((app, p) => [
      new BytesToStringParser(app, p, { id: "Cp", config: { encoding: "windows-1250" } }),
    ]);
    await h.send([Buffer.from([0x9a, 0x9d])]); // š ť in windows-1250
    expect(h.output).toEqual(["šť"]);
    const latin = await harness((app, p) => [new BytesToStringParser(app, p, { config: { encoding: "iso-8859-1" } })]);
    await latin.send([Buffer.from([0x80, 0xe9])]); // true ISO-8859-1 (the WHATWG label would mean windows-1252: "€é")
    expect(latin.output).toEqual(["\u0080é"]);
    const ascii = await harness((app, p) => [new BytesToStringParser(app, p, { config: { encoding: "ascii" } })], { soft: true });
    await ascii.send([Buffer.from([0x61, 0xe9]), Buffer.from("ok")]);
    expect(ascii.output).toEqual(["ok"]);
    expect(ascii.pipeline.metrics.warning).toBe(1);
    const hex = await harness((app, p) => [new BytesToStringParser(app, p, { config: { encoding: "hex" } })]);
    await hex.send([Buffer.from([0xde, 0xad])]);
    expect(hex.output).toEqual(["dead"]);
  });

  it("an unknown encoding is a ConfigError at construction", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    expect(() => new BytesToStringParser(app, p, { config: { encoding: "no-such-thing" } })).toThrow(/key 'encoding': unknown encoding 'no-such-thing' to decode/);
  });

  it("round-trips with StringToBytesParser", async () => {
    const h = await harness((app, p) => [new StringToBytesParser(app, p), new BytesToStringParser(app, p)]);
    await h.send(["grüß dich 😀"]);
    expect(h.output).toEqual(["grüß dich 😀"]);
  });
});

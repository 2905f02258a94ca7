import { describe, expect, it } from "vitest";
import { ConfigFile } from "../../src/config/conf-file.js";
import { Config, type ConfigValues } from "../../src/config/config.js";
import { ConfigError } from "../../src/errors.js";

const SECTION = "pipeline:P:Source";

function fromFile(lines: string[], given?: ConfigValues, defaults?: ConfigValues): Config {
  const file = ConfigFile.parse([`[${SECTION}]`, ...lines].join("\n"), "site.conf", { env: {} });
  return new Config(SECTION, { defaults, given, file });
}

function fromCode(given: ConfigValues): Config {
  return new Config(SECTION, { given });
}

function error(read: () => unknown): ConfigError {
  try {
    read();
  } catch (caught) {
    if (caught instanceof ConfigError) return caught;
    throw caught;
  }
  throw new Error("expected a ConfigError");
}

describe("Config layers", () => {
  it("takes the file over given over defaults, per key", () => {
    const config = fromFile(["from_file = file"], { from_file: "given", from_given: "given" }, { from_file: "d", from_given: "d", from_default: "d" });
    expect(config.get("from_file")).toBe("file");
    expect(config.get("from_given")).toBe("given");
    expect(config.get("from_default")).toBe("d");
    expect(config.section).toBe(SECTION);
  });

  it("reads only its own section of the file", () => {
    const file = ConfigFile.parse("[other]\nk = other\n", "site.conf");
    expect(new Config(SECTION, { defaults: { k: "default" }, file }).get("k")).toBe("default");
  });

  it("lists the union of keys and merges them in toObject()", () => {
    const config = fromFile(["a = 1", "c = file"], { b: 2, c: "given" }, { d: true, a: "0" });
    expect(config.keys().toSorted()).toEqual(["a", "b", "c", "d"]);
    expect(config.toObject()).toEqual({ a: "1", b: 2, c: "file", d: true });
  });

  it("is case-insensitive about keys, as configparser is", () => {
    const config = fromFile(["BatchSize = 5"], undefined, { batchSize: 1, maxWait: 2 });
    expect(config.getInt("batchsize")).toBe(5);
    expect(config.getInt("BATCHSIZE")).toBe(5);
    expect(config.getInt("MaxWait")).toBe(2);
    expect(config.keys().toSorted()).toEqual(["batchsize", "maxwait"]);
  });

  it("has() is true for a key in any layer", () => {
    const config = fromFile(["f = 1"], { g: 1 }, { d: 1 });
    expect([config.has("f"), config.has("g"), config.has("D"), config.has("x")]).toEqual([true, true, true, false]);
  });

  it("has() does not fail on a value that cannot be interpolated", () => {
    expect(fromFile(["password = ${NOT_SET}"]).has("password")).toBe(true);
  });

  it("reads changes made to the file later, e.g. by the -w switch", () => {
    const file = ConfigFile.empty();
    const config = new Config("s", { defaults: { k: "default" }, file });
    file.set("s", "k", "changed");
    expect(config.get("k")).toBe("changed");
  });

  it("forClass() collects the class's defaults", () => {
    class Source {
      static ConfigDefaults = { path: "/in", rate: 10 };
      readonly id = "source";
    }
    const config = Config.forClass(Source, SECTION, { rate: 20 }, undefined);
    expect(config.toObject()).toEqual({ path: "/in", rate: 20 });
  });
});

describe("Config.get and fallbacks", () => {
  it("returns values as strings", () => {
    const config = fromCode({ n: 5, b: false, s: "x" });
    expect([config.get("n"), config.get("b"), config.get("s")]).toEqual(["5", "false", "x"]);
  });

  it("uses a fallback only when the key is missing", () => {
    const config = fromCode({ set: "value", empty: "", zero: 0, no: false });
    expect(config.get("missing", "fb")).toBe("fb");
    expect(config.get("set", "fb")).toBe("value");
    expect(config.get("empty", "fb")).toBe("");
    expect(config.getInt("missing", 7)).toBe(7);
    expect(config.getInt("zero", 7)).toBe(0);
    expect(config.getFloat("missing", 0.5)).toBe(0.5);
    expect(config.getBool("missing", true)).toBe(true);
    expect(config.getBool("no", true)).toBe(false);
    expect(config.getSeconds("missing", 3)).toBe(3);
  });

  it("does not fall back when the value is present but invalid", () => {
    expect(error(() => fromCode({ n: "abc" }).getInt("n", 7)).code).toBe("PUMP_CONFIG_VALUE");
  });

  it("rejects a missing key without fallback, naming the file, section and key", () => {
    const fromConf = error(() => fromFile(["other = 1"]).get("Missing"));
    expect(fromConf.code).toBe("PUMP_CONFIG_MISSING");
    expect(fromConf.location).toEqual({ file: "site.conf", section: SECTION, key: "missing" });
    expect(fromConf.message).toMatch(/^site\.conf \[pipeline:P:Source\] key 'missing': required key is not set/);
    for (const read of [(c: Config) => c.getInt("x"), (c: Config) => c.getFloat("x"), (c: Config) => c.getBool("x"), (c: Config) => c.getSeconds("x"), (c: Config) => c.getMultiline("x")]) {
      const noFile = error(() => read(fromCode({})));
      expect(noFile.code).toBe("PUMP_CONFIG_MISSING");
      expect(noFile.message).toMatch(/^\[pipeline:P:Source\] key 'x': required key is not set/);
    }
  });

  it("passes on interpolation errors of its file section", () => {
    const config = fromFile(["k = ${NOT_SET}"]);
    expect(error(() => config.get("k")).code).toBe("PUMP_CONFIG_MISSING");
  });
});

describe("Config typed getters", () => {
  it("getInt accepts integers and integer strings", () => {
    const config = fromFile(["a = 10", "b = -3", "c = +4", "d =  007 "], { e: 12 });
    expect(["a", "b", "c", "d", "e"].map((key) => config.getInt(key))).toEqual([10, -3, 4, 7, 12]);
  });

  it.each([
    ["10.5", "'10.5'"],
    ["abc", "'abc'"],
    ["", "''"],
    ["1e3", "'1e3'"],
    ["0x10", "'0x10'"],
    ["99999999999999999999", "'99999999999999999999'"],
  ])("getInt rejects %j from the file, naming file:line, section, key, the value and what was expected", (value, shown) => {
    const caught = error(() => fromFile(["", `size = ${value}`]).getInt("size"));
    expect(caught.code).toBe("PUMP_CONFIG_VALUE");
    expect(caught.location).toEqual({ file: "site.conf", line: 3, section: SECTION, key: "size" });
    expect(caught.message).toBe(`site.conf:3 [pipeline:P:Source] key 'size': expected an integer (e.g. 10), got ${shown}`);
  });

  it.each([[10.5], [true], [Number.NaN]])("getInt rejects %j given in code, saying so", (value) => {
    const caught = error(() => fromCode({ size: value }).getInt("size"));
    expect(caught.code).toBe("PUMP_CONFIG_VALUE");
    expect(caught.location).toEqual({ section: SECTION, key: "size" });
    expect(caught.message).toBe(`[pipeline:P:Source] key 'size': expected an integer (e.g. 10), got '${String(value)}' (from code)`);
  });

  it("reports a value set in the file object from code as from code", () => {
    const file = ConfigFile.empty();
    file.set(SECTION, "size", "big");
    const caught = error(() => new Config(SECTION, { file }).getInt("size"));
    expect(caught.message).toBe("[pipeline:P:Source] key 'size': expected an integer (e.g. 10), got 'big' (from code)");
  });

  it("getFloat accepts decimal numbers", () => {
    const config = fromFile(["a = 1.5", "b = -2", "c = .25", "d = 1e3", "e = 3."], { f: 0.1 });
    expect(["a", "b", "c", "d", "e", "f"].map((key) => config.getFloat(key))).toEqual([1.5, -2, 0.25, 1000, 3, 0.1]);
  });

  it.each([["abc"], [""], ["1.2.3"], ["0x10"], ["1,5"], ["NaN"]])("getFloat rejects %j", (value) => {
    const caught = error(() => fromFile([`ratio = ${value}`]).getFloat("ratio"));
    expect(caught.code).toBe("PUMP_CONFIG_VALUE");
    expect(caught.message).toBe(`site.conf:2 [pipeline:P:Source] key 'ratio': expected a number (e.g. 1.5), got '${value}'`);
  });

  it("getFloat rejects booleans and NaN given in code", () => {
    expect(error(() => fromCode({ r: true }).getFloat("r")).message).toContain("expected a number (e.g. 1.5), got 'true' (from code)");
    expect(error(() => fromCode({ r: Number.NaN }).getFloat("r")).code).toBe("PUMP_CONFIG_VALUE");
  });

  it("getBool accepts configparser's words in any case, and booleans and 1/0 from code", () => {
    const words = ["true", "YES", "On", "1", "false", "No", "OFF", "0"];
    const config = fromFile(words.map((word, i) => `k${i} = ${word}`), { t: true, f: false, one: 1, zero: 0 });
    expect(words.map((_, i) => config.getBool(`k${i}`))).toEqual([true, true, true, true, false, false, false, false]);
    expect([config.getBool("t"), config.getBool("f"), config.getBool("one"), config.getBool("zero")]).toEqual([true, false, true, false]);
  });

  it.each([["maybe"], [""], ["2"], ["y"], ["truth"]])("getBool rejects %j", (value) => {
    const caught = error(() => fromFile([`enabled = ${value}`]).getBool("enabled"));
    expect(caught.code).toBe("PUMP_CONFIG_VALUE");
    expect(caught.message).toBe(`site.conf:2 [pipeline:P:Source] key 'enabled': expected a boolean (true/false, yes/no, on/off, 1/0), got '${value}'`);
  });

  it("getBool rejects numbers other than 1 and 0 from code", () => {
    expect(error(() => fromCode({ enabled: 2 }).getBool("enabled")).message).toContain("got '2' (from code)");
  });

  it("getSeconds reads ASAB's units", () => {
    const cases: Record<string, number> = {
      "10": 10,
      "1.5": 1.5,
      "500ms": 0.5,
      "30s": 30,
      "5m": 300,
      "1.5h": 5400,
      "2d": 172800,
      "1w": 604800,
      "1M": 2592000,
      "1y": 31536000,
      "2 h": 7200,
      ".5s": 0.5,
    };
    const keys = Object.keys(cases);
    const config = fromFile(keys.map((value, i) => `k${i} = ${value}`), { n: 2.5 });
    expect(keys.map((_, i) => config.getSeconds(`k${i}`))).toEqual(Object.values(cases));
    expect(config.getSeconds("n")).toBe(2.5);
  });

  it.each([["abc"], [""], ["10x"], ["h"], ["1.5.h"], ["5 minutes"], ["10S"]])("getSeconds rejects %j", (value) => {
    const caught = error(() => fromFile([`timeout = ${value}`]).getSeconds("timeout"));
    expect(caught.code).toBe("PUMP_CONFIG_VALUE");
    expect(caught.message).toBe(
      `site.conf:2 [pipeline:P:Source] key 'timeout': expected a duration (e.g. 30, 500ms, 30s, 5m, 1.5h, 2d, 1w, 1M, 1y), got '${value}'`,
    );
  });

  it("getSeconds rejects a boolean from code", () => {
    expect(error(() => fromCode({ timeout: true }).getSeconds("timeout")).message).toContain("got 'true' (from code)");
  });

  it("getMultiline splits on newlines and whitespace, dropping empty parts", () => {
    const config = fromFile(["urls =", "  http://a:9200", "", "  http://b:9200 http://c:9200  ", "single = one"], { coded: " x  y\n z " });
    expect(config.getMultiline("urls")).toEqual(["http://a:9200", "http://b:9200", "http://c:9200"]);
    expect(config.getMultiline("single")).toEqual(["one"]);
    expect(config.getMultiline("coded")).toEqual(["x", "y", "z"]);
  });

  it("getMultiline of an empty value is an empty list", () => {
    expect(fromFile(["urls ="]).getMultiline("urls")).toEqual([]);
  });
});

describe("Config errors and secrets", () => {
  it.each([["password"], ["db_password"], ["passwd"], ["client_secret"], ["access_token"], ["api_key"], ["ApiKey"]])(
    "does not echo the value of %j",
    (key) => {
      const fileError = error(() => fromFile([`${key} = hunter2`]).getInt(key));
      expect(fileError.code).toBe("PUMP_CONFIG_VALUE");
      expect(fileError.message).not.toContain("hunter2");
      expect(fileError.message).toContain("got a value not shown because the key holds a secret");
      expect(fileError.location.line).toBe(2);
      const codeError = error(() => fromCode({ [key]: "hunter2" }).getBool(key));
      expect(codeError.message).not.toContain("hunter2");
      expect(codeError.message).toContain("(from code)");
    },
  );

  it("does not echo values of the [passwords] section", () => {
    const file = ConfigFile.parse("[passwords]\nmongo = hunter2\n", "site.conf");
    const caught = error(() => new Config("passwords", { file }).getInt("mongo"));
    expect(caught.message).not.toContain("hunter2");
  });
});

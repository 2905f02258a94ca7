import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigFile } from "../../src/config/conf-file.js";
import { ConfigError } from "../../src/errors.js";

function parse(text: string): ConfigFile {
  return ConfigFile.parse(text, "site.conf", { env: {} });
}

function parseError(text: string): ConfigError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("ConfigFile parsing", () => {
  it("reads sections and keys with '=' or ':', stripping whitespace around them", () => {
    const conf = parse(["[general]", "name = demo", "port :  8080  ", "", "[pipeline:MyPipeline:MySource]", "path=/tmp/in"].join("\n"));
    expect(conf.sections()).toEqual(["general", "pipeline:MyPipeline:MySource"]);
    expect(conf.get("general", "name")).toBe("demo");
    expect(conf.get("general", "port")).toBe("8080");
    expect(conf.get("pipeline:MyPipeline:MySource", "path")).toBe("/tmp/in");
    expect(conf.hasSection("general")).toBe(true);
    expect(conf.hasSection("missing")).toBe(false);
    expect(conf.get("missing", "name")).toBeUndefined();
    expect(conf.section("missing")).toBeUndefined();
  });

  it("splits at the first '=' or ':' so values may contain both", () => {
    const conf = parse("[s]\nurl = http://host:8080/?a=b\nratio: 1:2=3\n");
    expect(conf.get("s", "url")).toBe("http://host:8080/?a=b");
    expect(conf.get("s", "ratio")).toBe("1:2=3");
  });

  it("lower-cases keys, like configparser, and finds them in any case", () => {
    const conf = parse("[s]\nMaxSize = 10\n");
    expect(conf.keys("s")).toEqual(["maxsize"]);
    expect(conf.get("s", "maxsize")).toBe("10");
    expect(conf.get("s", "MAXSIZE")).toBe("10");
  });

  it("keeps section names as written", () => {
    const conf = parse("[Pipeline:A]\nk = v\n");
    expect(conf.hasSection("Pipeline:A")).toBe(true);
    expect(conf.hasSection("pipeline:a")).toBe(false);
  });

  it("skips full-line '#' and ';' comments, indented or not, and keeps '#' inside values", () => {
    const conf = parse("# top\n[s]\n; note\n  # indented\nk = a # not a comment\n");
    expect(conf.section("s")).toEqual(new Map([["k", "a # not a comment"]]));
  });

  it("appends more-indented continuation lines with newlines", () => {
    const conf = parse(["[s]", "urls =", "  http://a", "  http://b", "", "  http://c", "", "next = 1"].join("\n"));
    expect(conf.get("s", "urls")).toBe("http://a\nhttp://b\n\nhttp://c");
    expect(conf.get("s", "next")).toBe("1");
  });

  it("starts a new key when a line is not more indented than the key line", () => {
    const conf = parse("[s]\n  a = 1\n  b = 2\n    more\n");
    expect(conf.get("s", "a")).toBe("1");
    expect(conf.get("s", "b")).toBe("2\nmore");
  });

  it("skips comment lines inside a multi-line value", () => {
    const conf = parse("[s]\nlist = x\n  # dropped\n  y\n");
    expect(conf.get("s", "list")).toBe("x\ny");
  });

  it("merges duplicate sections, later keys winning", () => {
    const conf = parse("[s]\na = 1\nb = 1\n[t]\n[s]\nb = 2\nc = 3\n");
    expect(conf.sections()).toEqual(["s", "t"]);
    expect(conf.section("s")).toEqual(new Map([["a", "1"], ["b", "2"], ["c", "3"]]));
  });

  it("accepts CRLF line ends and an empty value", () => {
    const conf = parse("[s]\r\nempty =\r\nk = v\r\n");
    expect(conf.get("s", "empty")).toBe("");
    expect(conf.get("s", "k")).toBe("v");
  });

  it("rejects a key before any section, naming the file and line", () => {
    const error = parseError("\n# comment\nkey = value\n");
    expect(error.code).toBe("PUMP_CONFIG_FILE");
    expect(error.location).toMatchObject({ file: "site.conf", line: 3 });
    expect(error.message).toBe("site.conf:3: key 'key' comes before any [section] header");
  });

  it("rejects a line that is neither a header nor a key, quoting it", () => {
    const error = parseError("[s]\na = 1\njust some words\n");
    expect(error.code).toBe("PUMP_CONFIG_FILE");
    expect(error.message).toBe("site.conf:3: expected '[section]' or 'key = value', got: just some words");
  });

  it("rejects a line with an empty key", () => {
    expect(parseError("[s]\n= value\n").message).toBe("site.conf:2: expected '[section]' or 'key = value', got: = value");
  });

  it("rejects malformed section headers", () => {
    expect(parseError("[s\na = 1\n").message).toBe("site.conf:1: malformed section header: [s");
    expect(parseError("[s]\n[ ]\n").message).toBe("site.conf:2: malformed section header: [ ]");
  });

  it("records the file and line of every key, and only the section for keys set in code", () => {
    const conf = parse("[s]\n\na = 1\nlong =\n  x\n  y\n");
    expect(conf.locate("s", "a")).toEqual({ file: "site.conf", line: 3, section: "s", key: "a" });
    expect(conf.locate("s", "LONG")).toEqual({ file: "site.conf", line: 4, section: "s", key: "long" });
    conf.set("s", "a", "2");
    expect(conf.locate("s", "a")).toEqual({ section: "s", key: "a" });
    expect(conf.locate("s", "unknown")).toEqual({ section: "s", key: "unknown" });
  });

  it("set() adds or replaces a value, creating the section, and lower-cases the key", () => {
    const conf = ConfigFile.empty();
    expect(conf.sections()).toEqual([]);
    expect(conf.files).toEqual([]);
    conf.set("new", "Key", "v");
    expect(conf.get("new", "key")).toBe("v");
    expect(conf.keys("new")).toEqual(["key"]);
  });
});

describe("ConfigFile.load", () => {
  it("reads a file and lists it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pump-conf-"));
    const path = join(dir, "site.conf");
    writeFileSync(path, "[s]\nk = v\n");
    const conf = ConfigFile.load(path);
    expect(conf.get("s", "k")).toBe("v");
    expect(conf.files).toEqual([path]);
    expect(conf.locate("s", "k")).toMatchObject({ file: path, line: 2 });
  });

  it("fails on a missing file, naming it", () => {
    const path = join(tmpdir(), "pump-no-such-dir", "missing.conf");
    let caught: unknown;
    try {
      ConfigFile.load(path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe("PUMP_CONFIG_FILE");
    expect((caught as ConfigError).message).toBe(`${path}: cannot read the configuration file (ENOENT: no such file or directory)`);
  });
});

describe("ConfigFile.redacted", () => {
  it("masks the [passwords] section, secret-like keys and passwords in URLs, and shows values as written", () => {
    const conf = ConfigFile.parse(
      [
        "[passwords]",
        "db = hunter2",
        "[connection:Mongo]",
        "url = mongodb://admin:hunter2@db:27017/x",
        "password = hunter2",
        "api_key = k",
        "ApiKey = k",
        "access_token = t",
        "client_secret = s",
        "passwd = p",
        "dsn = ${DSN}",
        "port = 27017",
      ].join("\n"),
      "site.conf",
      { env: { DSN: "postgres://u:leaked@h/db" } },
    );
    expect(conf.redacted()).toEqual({
      passwords: { db: "***" },
      "connection:Mongo": {
        url: "mongodb://admin:***@db:27017/x",
        password: "***",
        api_key: "***",
        apikey: "***",
        access_token: "***",
        client_secret: "***",
        passwd: "***",
        dsn: "${DSN}",
        port: "27017",
      },
    });
  });
});

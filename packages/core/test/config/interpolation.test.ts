import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigFile } from "../../src/config/conf-file.js";
import { ConfigError } from "../../src/errors.js";

const env = { HOME_DIR: "/home/pump", PORT: "9200" };

function parse(text: string): ConfigFile {
  return ConfigFile.parse(text, "conf/site.conf", { env });
}

function readError(conf: ConfigFile, section: string, key: string): ConfigError {
  try {
    conf.get(section, key);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("interpolation", () => {
  it("replaces ${VAR} and $VAR from the environment", () => {
    const conf = parse("[s]\npath = ${HOME_DIR}/data\nurl = http://localhost:$PORT/x\n");
    expect(conf.get("s", "path")).toBe("/home/pump/data");
    expect(conf.get("s", "url")).toBe("http://localhost:9200/x");
  });

  it("reads the environment when the value is read, not when parsed", () => {
    const live: Record<string, string | undefined> = {};
    const conf = ConfigFile.parse("[s]\nk = ${LATE}\n", "site.conf", { env: live });
    live["LATE"] = "now";
    expect(conf.get("s", "k")).toBe("now");
  });

  it("uses process.env by default", () => {
    process.env["PUMP_CONFIG_TEST_VAR"] = "from-process";
    try {
      expect(ConfigFile.parse("[s]\nk = $PUMP_CONFIG_TEST_VAR\n").get("s", "k")).toBe("from-process");
    } finally {
      delete process.env["PUMP_CONFIG_TEST_VAR"];
    }
  });

  it("leaves an unknown bare $word as it is", () => {
    const conf = parse("[s]\nregex = ^a$|^$UNKNOWN_X$\nprice = 5$\n");
    expect(conf.get("s", "regex")).toBe("^a$|^$UNKNOWN_X$");
    expect(conf.get("s", "price")).toBe("5$");
  });

  it("turns $$ into a literal $", () => {
    const conf = parse("[s]\na = $$PORT\nb = $${PORT}\nc = cost: 5$$\n");
    expect(conf.get("s", "a")).toBe("$PORT");
    expect(conf.get("s", "b")).toBe("${PORT}");
    expect(conf.get("s", "c")).toBe("cost: 5$");
  });

  it("replaces $THIS_DIR and ${THIS_DIR} with the directory of the file, before the environment", () => {
    const conf = ConfigFile.parse("[s]\na = $THIS_DIR/x\nb = ${THIS_DIR}/y\n", "conf/site.conf", { env: { THIS_DIR: "/wrong" } });
    const dir = dirname(resolve("conf/site.conf"));
    expect(conf.get("s", "a")).toBe(`${dir}/x`);
    expect(conf.get("s", "b")).toBe(`${dir}/y`);
  });

  it("uses the directory of the file the line is in, for included files too", () => {
    const root = mkdtempSync(join(tmpdir(), "pump-thisdir-"));
    const sub = mkdtempSync(join(root, "sub-"));
    writeFileSync(join(sub, "inc.conf"), "[s]\nincluded = $THIS_DIR/data\n");
    writeFileSync(join(root, "site.conf"), `[general]\ninclude = ${sub}/inc.conf\n[s]\nown = $THIS_DIR/data\n`);
    const conf = ConfigFile.load(join(root, "site.conf"), { env: {} });
    expect(conf.get("s", "own")).toBe(`${root}/data`);
    expect(conf.get("s", "included")).toBe(`${sub}/data`);
  });

  it("resolves ${section:key} references, recursively and in sections whose names contain ':'", () => {
    const conf = parse(
      [
        "[pipeline:P:Source]",
        "dir = ${HOME_DIR}/in",
        "[paths]",
        "base = ${pipeline:P:Source:dir}",
        "file = ${paths:base}/events.log",
        "[s]",
        "log = ${paths:FILE}",
      ].join("\n"),
    );
    expect(conf.get("s", "log")).toBe("/home/pump/in/events.log");
    expect(conf.section("paths")).toEqual(
      new Map([
        ["base", "/home/pump/in"],
        ["file", "/home/pump/in/events.log"],
      ]),
    );
  });

  it("sees later changes of a referenced key", () => {
    const conf = parse("[a]\nx = 1\n[b]\ny = ${a:x}\n");
    conf.set("a", "x", "2");
    expect(conf.get("b", "y")).toBe("2");
  });

  it("rejects a circular reference, naming the chain", () => {
    const conf = parse("[a]\nx = ${b:y}\n[b]\ny = ${a:x}\nself = ${b:self}\n");
    const error = readError(conf, "a", "x");
    expect(error.code).toBe("PUMP_CONFIG");
    expect(error.message).toContain("circular reference: [a] x -> [b] y -> [a] x");
    expect(readError(conf, "b", "self").message).toContain("circular reference: [b] self -> [b] self");
  });

  it("rejects a reference to a missing key or section, naming where the reference is", () => {
    const conf = parse("[a]\nok = 1\nx = ${a:nope}\ny = ${nowhere:ok}\n");
    const error = readError(conf, "a", "x");
    expect(error.code).toBe("PUMP_CONFIG_MISSING");
    expect(error.location).toEqual({ file: "conf/site.conf", line: 3, section: "a", key: "x" });
    expect(error.message).toBe("conf/site.conf:3 [a] key 'x': '${a:nope}' refers to key 'nope' of section [a], which is not set");
    expect(readError(conf, "a", "y").message).toContain("refers to key 'ok' of section [nowhere]");
  });

  it("rejects an unknown ${VAR}, naming file, line, section, key and the variable", () => {
    const conf = parse("[connection:DB]\n\nuser = pump\npassword = ${DB_PASSWORD}\n");
    const error = readError(conf, "connection:DB", "password");
    expect(error.code).toBe("PUMP_CONFIG_MISSING");
    expect(error.location).toEqual({ file: "conf/site.conf", line: 4, section: "connection:DB", key: "password" });
    expect(error.message).toBe("conf/site.conf:4 [connection:DB] key 'password': variable '${DB_PASSWORD}' is not set in the environment");
    expect(() => conf.section("connection:DB")).toThrow(ConfigError);
  });

  it("rejects an unclosed ${", () => {
    const error = readError(parse("[s]\nk = ${PORT\n"), "s", "k");
    expect(error.code).toBe("PUMP_CONFIG");
    expect(error.message).toContain("'${' is never closed");
  });

  it("does not interpolate keys", () => {
    const conf = parse("[s]\n$PORT = x\n");
    expect(conf.keys("s")).toEqual(["$port"]);
  });

  it("interpolates values set in code, with $THIS_DIR the working directory", () => {
    const conf = ConfigFile.empty();
    conf.set("s", "k", "$THIS_DIR");
    expect(conf.get("s", "k")).toBe(process.cwd());
  });
});

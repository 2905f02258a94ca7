import { describe, expect, it } from "vitest";
import { ConfigError, Pipeline } from "@pump/core";
import { FTPError } from "basic-ftp";
import { FTPConnection, FTPConnectionError, FTPSource } from "../src/index.js";
import { connectionError } from "../src/connection.js";
import { globRegExp } from "../src/glob.js";
import { isMalformed, Splitter } from "../src/reader.js";
import { createApp } from "./helpers.js";

describe("FTPConnection settings", () => {
  it("takes BSPump's keys, uses the port (BSPump always used 21) and keeps the password out of its address", () => {
    const app = createApp("[connection:FTPConnection]\nhostname=ftp.example.com\nport=2121\nusername=bob\npassword=s3cret\n");
    const connection = new FTPConnection(app);
    expect(connection.accessOptions()).toMatchObject({ host: "ftp.example.com", port: 2121, user: "bob", password: "s3cret", secure: false });
    expect(connection.address).toBe("ftp://bob@ftp.example.com:2121");
    expect(JSON.stringify(connection.restGet())).not.toContain("s3cret");
  });

  it("takes a URL; ftps:// means explicit FTPS", () => {
    const app = createApp();
    const plain = new FTPConnection(app, { config: { url: "ftp://u%40x:p%3Aw@127.0.0.1:2121" } });
    expect(plain.accessOptions()).toMatchObject({ host: "127.0.0.1", port: 2121, user: "u@x", password: "p:w", secure: false });
    const tls = new FTPConnection(app, "Secure", { config: { url: "ftps://u:p@ftp.example.com" } });
    expect(tls.accessOptions()).toMatchObject({ host: "ftp.example.com", port: 21, secure: true, secureOptions: { rejectUnauthorized: true, servername: "ftp.example.com" } });
    expect(tls.address).toBe("ftps://u@ftp.example.com:21");
  });

  it("maps secure=implicit and tls_verify=no to basic-ftp's options", () => {
    const app = createApp();
    const connection = new FTPConnection(app, { config: { hostname: "h", port: 990, secure: "implicit", tls_verify: "no" } });
    expect(connection.accessOptions()).toMatchObject({ secure: "implicit", secureOptions: { rejectUnauthorized: false } });
  });

  it("refuses bad values with a ConfigError naming the key", () => {
    const app = createApp();
    expect(() => new FTPConnection(app, { config: { secure: "maybe" } })).toThrow(/secure/);
    expect(() => new FTPConnection(app, { config: { port: 70000 } })).toThrow(/port/);
    expect(() => new FTPConnection(app, { config: { url: "http://x" } })).toThrow(ConfigError);
    expect(() => new FTPConnection(app, { config: { tls_ca_file: "/does/not/exist.pem" } })).toThrow(/tls_ca_file/);
  });
});

function source(config: Record<string, string | number>) {
  const app = createApp();
  app.pumpService.addConnection(new FTPConnection(app));
  return new FTPSource(app, new Pipeline(app, "P"), "FTPConnection", { config });
}

describe("connection errors", () => {
  it("tells what is worth retrying: refused, reset and 421 are; a refused login and an untrusted certificate are not", () => {
    const refused = connectionError("x", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:21"), { code: "ECONNREFUSED" }));
    expect(refused.retriable).toBe(true);
    expect(connectionError("x", new FTPError({ code: 421, message: "421 Timeout." })).retriable).toBe(true);
    const login = connectionError("x", new FTPError({ code: 530, message: "530 Login incorrect." }));
    expect([login.retriable, login.reply, login.message]).toEqual([false, 530, "x: 530 Login incorrect."]);
    const cert = connectionError("x", Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }));
    expect(cert.retriable).toBe(false);
    expect(cert).toBeInstanceOf(FTPConnectionError);
  });
});

describe("FTPSource settings", () => {
  it("turns BSPump's mode=p into post=delete; post wins", () => {
    expect(source({}).post).toBe("noop");
    expect(source({ mode: "p" }).post).toBe("delete");
    expect(source({ mode: "p", post: "move" }).post).toBe("move");
  });

  it("refuses bad values", () => {
    expect(() => source({ mode: "x" })).toThrow(/mode/);
    expect(() => source({ post: "archive" })).toThrow(/post/);
    expect(() => source({ format: "csv" })).toThrow(/format/);
    expect(() => source({ encoding: "no-such-encoding" })).toThrow(/encoding/);
    expect(() => source({ max_failed_retries: 0 })).toThrow(/max_failed_retries/);
  });
});

describe("glob", () => {
  it("matches names fnmatch-style, several patterns allowed", () => {
    const re = globRegExp("*.csv data-??.txt [!x]*.log");
    expect(["a.csv", "data-01.txt", "app.log"].every((n) => re.test(n))).toBe(true);
    expect(["a.csv.gz", "data-1.txt", "x.log", "a.CSV"].some((n) => re.test(n))).toBe(false);
    expect(globRegExp("a+b(1).txt").test("a+b(1).txt")).toBe(true);
    expect(globRegExp("[a-c]*").test("beta")).toBe(true);
  });
});

describe("Splitter", () => {
  it("splits lines across pieces, with \\r\\n, and keeps a last line without a newline", () => {
    const splitter = new Splitter<string>("lines", "utf-8", 100, 100);
    const items = [...splitter.take(Buffer.from("ab\r\nc")), ...splitter.take(Buffer.from("d\n\ne")), ...splitter.end()];
    expect(items).toEqual([
      { value: "ab", line: 1 },
      { value: "cd", line: 2 },
      { value: "", line: 3 },
      { value: "e", line: 4 },
    ]);
  });

  it("decodes a character split across pieces", () => {
    const bytes = Buffer.from("žluť\n");
    const splitter = new Splitter<string>("lines", "utf-8", 100, 100);
    expect([...splitter.take(bytes.subarray(0, 2)), ...splitter.take(bytes.subarray(2)), ...splitter.end()]).toEqual([{ value: "žluť", line: 1 }]);
    const chunks = new Splitter<string>("chunks", "utf-8", 100, 100);
    const pieces = [...chunks.take(bytes.subarray(0, 1)), ...chunks.take(bytes.subarray(1)), ...chunks.end()];
    expect(pieces.map((i) => (isMalformed(i) ? "?" : i.value)).join("")).toBe("žluť\n");
  });

  it("reports a line over max_line_size once, in its place, without keeping it, and counts lines on", () => {
    const splitter = new Splitter<Buffer>("lines", undefined, 4, 100);
    const entries = [...splitter.take(Buffer.from("ok\n1234")), ...splitter.take(Buffer.from("5678")), ...splitter.take(Buffer.from("9\nend\n")), ...splitter.end()];
    expect(entries.map((e) => (isMalformed(e) ? ["malformed", e.line] : [String(e.value), e.line]))).toEqual([
      ["ok", 1],
      ["malformed", 2],
      ["end", 3],
    ]);
  });

  it("reports a line that does not decode between the lines around it", () => {
    const splitter = new Splitter<string>("lines", "utf-8", 100, 100);
    const entries = splitter.take(Buffer.from([0x61, 0x0a, 0xff, 0x0a, 0x63, 0x0a]));
    expect(entries.map((e) => (isMalformed(e) ? e.line : e.value))).toEqual(["a", 2, "c"]);
  });

  it("reports a block over max_block_size and emits nothing for it", () => {
    const splitter = new Splitter<Buffer>("block", undefined, 10, 5);
    const entries = [...splitter.take(Buffer.from("abc")), ...splitter.take(Buffer.from("def")), ...splitter.end()];
    expect(entries.length).toBe(1);
    expect(isMalformed(entries[0]!)).toBe(true);
  });
});

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, DuplicateError, UsageError } from "../../src/index.js";
import {
  BatchLookupProvider,
  DictionaryLookup,
  FileBatchLookupProvider,
  LookupProvider,
  createLookupProvider,
  etagOf,
  lookupProviderSchemes,
  registerLookupProvider,
  unregisterLookupProvider,
  type LookupProviderFactory,
} from "../../src/lookup/index.js";
import { captureLogs } from "../helpers.js";
import { appWith, tempDir, type TempDir } from "./support.js";

/** Stands for the HTTP package's provider: records the URL and config it was made with. */
class FakeHttpProvider extends BatchLookupProvider {
  static override ConfigDefaults = { master_timeout: 30, use_cache: "yes" };
  async load(): Promise<Uint8Array | undefined> {
    return new TextEncoder().encode(JSON.stringify({ from: this.url }));
  }
}
const httpFactory: LookupProviderFactory = (lookup, url, options) => new FakeHttpProvider(lookup, url, options);
const otherHttpFactory: LookupProviderFactory = (lookup, url, options) => new FakeHttpProvider(lookup, url, options);

let tmp: TempDir;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
  unregisterLookupProvider("http:");
  unregisterLookupProvider("https:");
});

function decode(data: Uint8Array | undefined): string | undefined {
  return data === undefined ? undefined : new TextDecoder().decode(data);
}

describe("FileBatchLookupProvider", () => {
  it("loads the whole file as bytes, its ETag the sha1 of the content", async () => {
    const path = tmp.write("countries.json", '{"CZ":"Czechia"}');
    const lookup = new DictionaryLookup(appWith(), "L", { config: { source_url: path } });
    const provider = lookup.provider as FileBatchLookupProvider;
    expect(provider).toBeInstanceOf(FileBatchLookupProvider);
    expect(provider).toBeInstanceOf(BatchLookupProvider);
    expect(provider.id).toBe("lookupprovider:L");
    expect(provider.path).toBe(path);
    expect(provider.etag).toBeUndefined();
    const data = await provider.load();
    expect(decode(data)).toBe('{"CZ":"Czechia"}');
    expect(provider.etag).toBe(createHash("sha1").update('{"CZ":"Czechia"}').digest("hex"));
    expect(provider.etag).toBe(etagOf(new TextEncoder().encode('{"CZ":"Czechia"}')));
    expect(provider.restGet()).toEqual({ Id: "lookupprovider:L", Class: "FileBatchLookupProvider", URL: path, ETag: provider.etag });
  });

  it("a missing file is a warning and undefined, not an error; the warning is not repeated while the file stays missing", async () => {
    const logs = captureLogs();
    try {
      const path = join(tmp.dir, "missing.json");
      const provider = new DictionaryLookup(appWith(), "L", { config: { source_url: path } }).provider!;
      await expect(provider.load()).resolves.toBeUndefined();
      await expect(provider.load()).resolves.toBeUndefined();
      const about = logs.records.filter((r) => r.message.includes(path));
      expect(about.map((r) => r.level)).toEqual(["warn", "debug"]);
      expect(about[0]!.message).toMatch(/does not exist/);
      expect(about[0]!.fields.lookup).toBe("L");
      // it appears: loaded; it goes again: warned again
      tmp.write("missing.json", "{}");
      expect(decode(await provider.load())).toBe("{}");
      tmp.remove();
      await expect(provider.load()).resolves.toBeUndefined();
      expect(logs.records.filter((r) => r.message.includes(path)).map((r) => r.level)).toEqual(["warn", "debug", "warn"]);
    } finally {
      logs.restore();
    }
  });

  it("a directory is not a file: warning and undefined", async () => {
    const logs = captureLogs();
    try {
      const provider = new DictionaryLookup(appWith(), "L", { config: { source_url: tmp.dir } }).provider!;
      await expect(provider.load()).resolves.toBeUndefined();
      expect(logs.records.some((r) => r.level === "warn" && /is not a file/.test(r.message))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("a path that cannot be read (here: under a file) is a warning and undefined", async () => {
    const logs = captureLogs();
    const path = join(tmp.write("plain.json", "{}"), "inside.json");
    try {
      const provider = new DictionaryLookup(appWith(), "L", { config: { source_url: path } }).provider!;
      await expect(provider.load()).resolves.toBeUndefined();
      expect(logs.records.some((r) => r.level === "warn" && /failed to read: .*ENOTDIR/.test(r.message))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("save() writes the file, creating its directories", async () => {
    const path = join(tmp.dir, "a", "b", "out.json");
    const provider = new DictionaryLookup(appWith(), "L", { config: { source_url: path } }).provider as FileBatchLookupProvider;
    await provider.save(new TextEncoder().encode('{"x":1}'));
    expect(readFileSync(path, "utf8")).toBe('{"x":1}');
    expect(provider.etag).toBe(etagOf(new TextEncoder().encode('{"x":1}')));
  });

  it("resolves a relative path against the working directory", () => {
    const provider = new DictionaryLookup(appWith(), "L", { config: { source_url: "data/lookup.json" } }).provider as FileBatchLookupProvider;
    expect(provider.path).toBe(resolve("data/lookup.json"));
  });
});

describe("choosing the provider from source_url", () => {
  it("a path or a file: URL is a file provider and makes the lookup a master", async () => {
    const path = tmp.write("l.json", '{"a":1}');
    const byPath = new DictionaryLookup(appWith(), "A", { config: { source_url: path } });
    expect(byPath.provider).toBeInstanceOf(FileBatchLookupProvider);
    expect(byPath.isMaster()).toBe(true);
    expect(byPath.masterUrl).toBeUndefined();
    const byUrl = new DictionaryLookup(appWith(), "B", { config: { source_url: pathToFileURL(path).href } });
    expect((byUrl.provider as FileBatchLookupProvider).path).toBe(path);
    await byUrl.update();
    expect(byUrl.get("a")).toBe(1);
  });

  it("a Windows drive letter is a path, not a scheme", () => {
    const lookup = new DictionaryLookup(appWith(), "L", { config: { source_url: "C:\\data\\lookup.json" } });
    expect(lookup.provider).toBeInstanceOf(FileBatchLookupProvider);
  });

  it("no source_url and no master_url: no provider, and loading finds nothing", async () => {
    const lookup = new DictionaryLookup(appWith(), "L");
    expect(lookup.provider).toBeUndefined();
    expect(lookup.isMaster()).toBe(true);
    await expect(lookup.update()).resolves.toBe(false);
    expect(lookup.loaded).toBe(true);
  });

  it("an http URL nobody registered a provider for is a ConfigError naming the file, line, section and key", () => {
    const app = appWith("[lookup:Countries]\nsource_url = http://master:8080/bspump/v1/lookup/Countries\n");
    const make = () => new DictionaryLookup(app, "Countries");
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/<test\.conf>:2 \[lookup:Countries\] key 'source_url': no lookup provider for 'http:' URLs.*import the package that provides HTTP lookups/);
    try {
      make();
    } catch (error) {
      expect((error as ConfigError).code).toBe("PUMP_CONFIG_VALUE");
    }
  });

  it("an unknown scheme is a ConfigError listing the schemes there are", () => {
    expect(() => new DictionaryLookup(appWith(), "L", { config: { source_url: "zk://zookeeper:2181/lookups/l.json" } })).toThrow(
      /no lookup provider for 'zk:' URLs \(known: file:/,
    );
  });

  it("a registered factory makes the provider of its scheme; the lookup is then a slave of that URL", async () => {
    const unregister = registerLookupProvider("http:", httpFactory);
    const app = appWith("[lookup:L]\nuse_cache = no\n[lookupprovider:L]\nmaster_timeout = 5\n");
    const lookup = new DictionaryLookup(app, "L", { config: { source_url: "http://master/bspump/v1/lookup/L" } });
    const provider = lookup.provider as FakeHttpProvider;
    expect(provider).toBeInstanceOf(FakeHttpProvider);
    expect(provider.url).toBe("http://master/bspump/v1/lookup/L");
    // config: its defaults < the lookup's section < its own section
    expect(provider.config.get("use_cache")).toBe("no");
    expect(provider.config.getFloat("master_timeout")).toBe(5);
    expect(lookup.isMaster()).toBe(false);
    expect(lookup.masterUrl).toBe("http://master/bspump/v1/lookup/L");
    expect(lookup.restGet()).toMatchObject({ Id: "L", MasterURL: "http://master/bspump/v1/lookup/L" });
    await lookup.update();
    expect(lookup.get("from")).toBe("http://master/bspump/v1/lookup/L");
    unregister();
    expect(() => new DictionaryLookup(app, "M", { config: { source_url: "http://master/x" } })).toThrow(ConfigError);
  });

  it("schemes are matched case-insensitively, with or without the colon", () => {
    registerLookupProvider("HTTPS", httpFactory);
    expect(lookupProviderSchemes()).toEqual(["file:", "https:"]);
    const lookup = new DictionaryLookup(appWith(), "L", { config: { source_url: "HTTPS://master/l" } });
    expect(lookup.provider).toBeInstanceOf(FakeHttpProvider);
    expect(() => registerLookupProvider("1x", httpFactory)).toThrow(UsageError);
  });

  it("registering another factory for a taken scheme is a DuplicateError; the same factory again is fine", () => {
    registerLookupProvider("http:", httpFactory);
    expect(() => registerLookupProvider("http:", httpFactory)).not.toThrow();
    expect(() => registerLookupProvider("http", otherHttpFactory)).toThrow(DuplicateError);
    expect(unregisterLookupProvider("http:")).toBe(true);
    expect(unregisterLookupProvider("http:")).toBe(false);
    const unregister = registerLookupProvider("http:", otherHttpFactory);
    unregister();
    expect(lookupProviderSchemes()).toEqual(["file:"]);
  });

  it("BSPump's master_url keys build the URL of an HTTP master when source_url is empty", () => {
    const made: string[] = [];
    registerLookupProvider("http:", (lookup, url, options) => {
      made.push(url);
      return new FakeHttpProvider(lookup, url, options);
    });
    const countries = new DictionaryLookup(appWith("[lookup:Countries]\nmaster_url = master:8080/\n"), "Countries");
    const local = new DictionaryLookup(appWith("[lookup:Local]\nmaster_url = http://master:8080\nmaster_url_endpoint = /api/lookups\nmaster_lookup_id = Remote\n"), "Local");
    expect([countries.masterUrl, local.masterUrl]).toEqual(made);
    expect(made).toEqual(["http://master:8080/bspump/v1/lookup/Countries", "http://master:8080/api/lookups/Remote"]);
  });

  it("createLookupProvider() is the choice a lookup makes, for lookups that pick their provider themselves", () => {
    const lookup = new DictionaryLookup(appWith(), "L");
    const path = tmp.write("x.json", "{}");
    const provider: LookupProvider = createLookupProvider(lookup, path, { id: "Mine" });
    expect(provider).toBeInstanceOf(FileBatchLookupProvider);
    expect(provider.id).toBe("lookupprovider:Mine");
    expect(() => createLookupProvider(lookup, "ftp://x/y", {}, { section: "lookup:L", key: "source_url" })).toThrow(/\[lookup:L\] key 'source_url': no lookup provider for 'ftp:'/);
  });
});

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DictionaryLookup, lookupProviderSchemes, WebServer } from "@pump/core";
import { HTTPBatchLookupProvider } from "../src/index.js";
import { createApp, freePort, startServer, until, type TestServer } from "./helpers.js";

const servers: TestServer[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pump-http-lookup-"));
  folders.push(dir);
  return dir;
}

/** A slave DictionaryLookup of `url`, in an app with the given config text. */
function slave(url: string, conf = "", config: Record<string, string | number> = {}) {
  const app = createApp(conf);
  const lookup = new DictionaryLookup<number>(app, "Prices", { config: { source_url: url, ...config } });
  return { app, lookup, provider: lookup.provider as HTTPBatchLookupProvider };
}

describe("HTTPBatchLookupProvider", () => {
  it("is registered for http: and https: when the package is imported; such a lookup is a slave", () => {
    expect(lookupProviderSchemes()).toEqual(expect.arrayContaining(["http:", "https:"]));
    const { lookup, provider } = slave("https://master.example.com/bspump/v1/lookup/Prices");
    expect(provider).toBeInstanceOf(HTTPBatchLookupProvider);
    expect(lookup.isMaster()).toBe(false);
    expect(lookup.masterUrl).toBe("https://master.example.com/bspump/v1/lookup/Prices");
  });

  it("copies a master pump's lookup through its REST API, and asks again with the ETag (304 while unchanged)", async () => {
    const masterApp = createApp("[web]\nlisten=127.0.0.1:0\n");
    const master = new DictionaryLookup<number>(masterApp, "Prices");
    master.set({ tea: 3, cake: 5 });
    masterApp.pumpService.addLookup(master);
    const web = WebServer.of(masterApp);
    const running = masterApp.run();
    try {
      await until(() => web.url !== undefined, "the master's web server");
      const { lookup, provider } = slave(`${web.url}/bspump/v1/lookup/Prices`);
      expect(await lookup.update()).toBe(true);
      expect(Object.fromEntries(lookup.dictionary)).toEqual({ tea: 3, cake: 5 });
      const etag = provider.etag;
      expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
      expect(await provider.load()).toBeUndefined(); // 304: up to date
      master.set({ tea: 4, cake: 5 });
      expect(await lookup.update()).toBe(true);
      expect(lookup.get("tea")).toBe(4);
      expect(provider.etag).not.toBe(etag);
    } finally {
      masterApp.stop();
      await running;
    }
  });

  it("sends BSPump's ETag request header and If-None-Match; takes 304 as nothing new", async () => {
    const s = await startServer((r, res) => {
      if (r.headers.etag === "v1") {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader("ETag", "v1");
      res.end('{"a": 1}');
    });
    servers.push(s);
    const { lookup, provider } = slave(`${s.url}/lookup`);
    expect(await lookup.update()).toBe(true);
    expect(provider.etag).toBe("v1");
    expect(await lookup.update()).toBe(false);
    expect(s.requests.map((r) => [r.headers.etag, r.headers["if-none-match"]])).toEqual([
      [undefined, undefined],
      ["v1", '"v1"'],
    ]);
  });

  it("keeps a cache in [general] var_dir (BSPump's format) and loads from it while the master is down", async () => {
    const varDir = await tempDir();
    const s = await startServer((_r, res) => {
      res.setHeader("ETag", '"abc"');
      res.end('{"k": 7}');
    });
    servers.push(s);
    const conf = `[general]\nvar_dir=${varDir}\n`;
    const first = slave(`${s.url}/lookup/Prices`, conf);
    await first.lookup.update();
    const cachePath = join(varDir, "lookup_lookupprovider:Prices.cache");
    expect(first.provider.cachePath).toBe(cachePath);
    const cached = await readFile(cachePath);
    expect(cached.readUInt32LE(0)).toBe(5);
    expect(cached.subarray(4, 9).toString()).toBe('"abc"');
    expect(cached[9]).toBe(0x0a);
    expect(cached.subarray(10).toString()).toBe('{"k": 7}');
    await s.close();
    servers.length = 0;

    // A new slave (a restarted pump) with its master down starts from the cache.
    const second = slave(`${s.url}/lookup/Prices`, conf, { master_timeout: 2 });
    expect(await second.lookup.update()).toBe(true);
    expect(second.lookup.get("k")).toBe(7);
    expect(second.provider.etag).toBe('"abc"');
  });

  it("uses cache_dir when set, loads from the cache on 404 and other failures, not on 501", async () => {
    const cacheDir = await tempDir();
    let status = 200;
    const s = await startServer((_r, res) => {
      res.statusCode = status;
      res.end(status === 200 ? '{"x": 1}' : "no");
    });
    servers.push(s);
    const { lookup, provider } = slave(`${s.url}/l`, "", { cache_dir: cacheDir });
    expect(provider.cachePath).toBe(join(cacheDir, "lookup_lookupprovider:Prices.cache"));
    await lookup.update();
    status = 404;
    expect(Buffer.from((await provider.load())!).toString()).toBe('{"x": 1}');
    status = 503;
    expect(Buffer.from((await provider.load())!).toString()).toBe('{"x": 1}');
    status = 501;
    expect(await provider.load()).toBeUndefined();
  });

  it("without a cache folder (or with use_cache=no), a master that cannot be reached gives nothing and the lookup keeps its data", async () => {
    const port = await freePort();
    const { lookup, provider } = slave(`http://127.0.0.1:${port}/l`);
    expect(provider.cachePath).toBeUndefined();
    expect(await provider.load()).toBeUndefined();
    expect(await lookup.update()).toBe(false);
    const off = slave(`http://127.0.0.1:${port}/l`, `[general]\nvar_dir=${await tempDir()}\n`, { use_cache: "no" });
    expect(off.provider.cachePath).toBeUndefined();
  });

  it("gives up on a master that does not answer within master_timeout, and reads the cache", async () => {
    const cacheDir = await tempDir();
    const s = await startServer(() => {
      /* never answers */
    });
    servers.push(s);
    const { provider } = slave(`${s.url}/slow`, "", { cache_dir: cacheDir, master_timeout: 0.05 });
    await writeFile(provider.cachePath!, Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from("e1\n"), Buffer.from('{"c": 2}')]));
    expect(Buffer.from((await provider.load())!).toString()).toBe('{"c": 2}');
    expect(provider.etag).toBe("e1");
  });

  it("deletes a damaged cache", async () => {
    const cacheDir = await tempDir();
    const port = await freePort();
    const { provider } = slave(`http://127.0.0.1:${port}/l`, "", { cache_dir: cacheDir });
    await writeFile(provider.cachePath!, Buffer.from([200, 0, 0, 0, 1, 2]));
    expect(await provider.load()).toBeUndefined();
    await expect(readFile(provider.cachePath!)).rejects.toThrow(/ENOENT/);
  });
});

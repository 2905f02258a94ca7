import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BatchLookupProvider, etagOf, registerLookupProvider, type Lookup, type LookupProviderFactory, type LookupProviderOptions, type ConfigValues } from "@pump/core";
import { HTTPConnectionError } from "./errors.js";
import { send } from "./request.js";

/**
 * Loads a lookup from a master over HTTP (BSPump's HTTPBatchLookupProvider): a lookup whose
 * `source_url` is `http(s)://…` (a master pump's `/bspump/v1/lookup/<Id>`) is its slave.
 *
 * Each load is a GET carrying the ETag of the data last loaded, as BSPump sends it — in an `ETag`
 * request header, which BSPump's master honours — and as `If-None-Match` for any other HTTP server.
 * 304: nothing new. 200: the body is the data; its `ETag` (else the body's sha1) is kept. 501: the
 * master cannot serialize that lookup, nothing loaded. 404, another status, a refused connection or
 * no answer within `master_timeout` seconds: the data comes from the cache, if there is one — so a
 * slave starts and keeps working while its master is down.
 *
 * Cache (`use_cache`, on by default): the file `lookup_<provider id>.cache` in `cache_dir`, or else in
 * `[general] var_dir`; neither set: no cache (a warning). Its format is BSPump's: the ETag's length
 * (4 bytes, little-endian), the ETag, "\n", the data. A cache that cannot be read is deleted. (BSPump
 * turns the cache off when `cache_dir` is set, a bug; here `cache_dir` is used.)
 */
export class HTTPBatchLookupProvider extends BatchLookupProvider {
  static override ConfigDefaults: ConfigValues = {
    master_timeout: 30,
    use_cache: "yes",
    cache_dir: "",
  };

  /** Seconds a request may take. */
  readonly timeout: number;
  /** The cache file, when caching is on and a folder is known. */
  readonly cachePath: string | undefined;

  constructor(lookup: Lookup<unknown, unknown>, url: string, options?: LookupProviderOptions) {
    super(lookup, url, options);
    this.timeout = this.config.getSeconds("master_timeout");
    let cachePath: string | undefined;
    if (this.config.getBool("use_cache")) {
      const folder = this.config.get("cache_dir").trim() || (this.app.config.get("general", "var_dir") ?? "").trim();
      if (folder === "") this.log.warn("No cache path specified. Cache disabled.", { url });
      else {
        const name = `lookup_${this.id}.cache`;
        cachePath = join(resolve(folder), process.platform === "win32" ? name.replace(/[<>:"/\\|?*]/g, "_") : name);
      }
    }
    this.cachePath = cachePath;
  }

  async load(): Promise<Uint8Array | undefined> {
    const headers: Record<string, string> = {};
    if (this.etag !== undefined) {
      headers.ETag = this.etag;
      headers["If-None-Match"] = this.etag.startsWith('"') || this.etag.startsWith("W/") ? this.etag : `"${this.etag}"`;
    }
    let status: number;
    let data: Buffer;
    let etag: string | null;
    try {
      const exchange = await send(this.url, { method: "GET", headers, timeoutMs: this.timeout * 1000 });
      status = exchange.status;
      etag = exchange.response.headers.get("etag");
      if (status !== 200) {
        await exchange.drain();
        data = Buffer.alloc(0);
      } else data = await exchange.bytes();
    } catch (error) {
      if (!(error instanceof HTTPConnectionError)) throw error;
      this.log.warn(`Failed to contact lookup master at '${this.url}': ${error.errno ?? error.message}`, { url: this.url });
      return this.loadFromCache();
    }
    if (status === 304) {
      this.log.info("Lookup is up to date with its master", { url: this.url });
      return undefined;
    }
    if (status === 404) {
      this.log.warn("Lookup was not found at its master", { url: this.url });
      return this.loadFromCache();
    }
    if (status === 501) {
      this.log.warn("The master does not support serialization of this lookup", { url: this.url });
      return undefined;
    }
    if (status !== 200) {
      this.log.warn(`Failed to get the lookup from its master (status ${status})`, { url: this.url, status });
      return this.loadFromCache();
    }
    this.etag = etag ?? etagOf(data);
    await this.saveToCache(data);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The data the cache holds (and its ETag becomes the provider's), or undefined. A cache that cannot be read is deleted. */
  async loadFromCache(): Promise<Uint8Array | undefined> {
    const path = this.cachePath;
    if (path === undefined) return undefined;
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.log.warn(code === "ENOENT" ? `Cache '${path}': not a file` : `Cannot read the cache '${path}': ${(error as Error).message}`, { path });
      return undefined;
    }
    const length = content.length >= 4 ? content.readUInt32LE(0) : -1;
    if (length < 0 || 4 + length + 1 > content.length || content[4 + length] !== 0x0a) {
      this.log.warn(`Failed to read the content of the lookup cache '${path}': it is damaged; deleting it`, { path });
      await unlink(path).catch(() => {});
      return undefined;
    }
    this.etag = content.subarray(4, 4 + length).toString("utf8");
    this.log.info("Lookup loaded from the cache", { path });
    const data = content.subarray(4 + length + 1);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Writes the data and its ETag to the cache (creating its folder); a failure is a warning. */
  async saveToCache(data: Uint8Array): Promise<void> {
    const path = this.cachePath;
    if (path === undefined) return;
    const etag = Buffer.from(this.etag ?? etagOf(data), "utf8");
    const head = Buffer.alloc(4);
    head.writeUInt32LE(etag.length, 0);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, Buffer.concat([head, etag, Buffer.from("\n"), data]));
    } catch (error) {
      this.log.warn(`Cannot write the lookup cache '${path}': ${(error as Error).message}`, { path });
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), ...(this.cachePath === undefined ? {} : { Cache: this.cachePath }) };
  }
}

const FACTORY = Symbol.for("@pump/http.lookupProviderFactory");

/**
 * The factory registered for "http:" and "https:" URLs. Kept on `globalThis` so that two copies of
 * this package in one process register the same function (registering it twice changes nothing).
 */
export const httpLookupProviderFactory: LookupProviderFactory = ((globalThis as Record<symbol, unknown>)[FACTORY] ??= ((lookup, url, options) =>
  new HTTPBatchLookupProvider(lookup, url, options)) satisfies LookupProviderFactory) as LookupProviderFactory;

registerLookupProvider("http:", httpLookupProviderFactory);
registerLookupProvider("https:", httpLookupProviderFactory);

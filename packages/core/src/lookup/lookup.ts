import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import { ConfigError, UsageError, type ConfigLocation } from "../errors.js";
import type { Logger } from "../logger.js";
import { PubSub } from "../pubsub.js";
import { FileBatchLookupProvider, etagOf } from "./file-provider.js";
import type { LookupProvider } from "./provider.js";
import { createLookupProvider } from "./registry.js";

export interface LookupOptions {
  id?: string | undefined;
  config?: ConfigValues | undefined;
  /** A lazy lookup is not loaded when the application starts, but on first use or `update()`. */
  lazy?: boolean | undefined;
}

const CHANGED = "bspump.Lookup.changed!";
const TICK = "Application.tick!";

/**
 * A shared, named view of reference data that processors consult by id (`[lookup:<Id>]`,
 * `app.pumpService.locateLookup("Id")`). The service loads every non-lazy lookup before pipelines
 * start; `update()` reloads and tells subscribers ("bspump.Lookup.changed!" on `lookup.pubsub`, with
 * the lookup) when the data changed.
 *
 * Config (`[lookup:<Id>]`):
 * - `source_url` — where the data comes from: a path or `file:` URL (a FileBatchLookupProvider; the
 *   lookup is a master), or a URL whose scheme a package registered with `registerLookupProvider`
 *   (e.g. `http:`; the lookup is a slave of that URL). Empty: no provider, unless `master_url` is set.
 * - `master_url`, `master_url_endpoint`, `master_lookup_id` — BSPump's older way to name an HTTP master:
 *   `<master_url>/<endpoint>/<master_lookup_id or Id>`. Unlike BSPump, `master_url` has no default.
 * - `refresh_period` — reload every so many seconds (`30`, `5m`); 0 (the default) never. Checked on the
 *   application's "Application.tick!", so it runs only while the application runs and leaves no timer.
 *
 * Subclasses implement `load()` and `get()`; `loadFromProvider()` is BSPump's load (the provider's
 * bytes to `deserialize()`, skipped when byte for byte what was loaded last).
 */
export abstract class Lookup<Key = string, Value = unknown> {
  static ConfigDefaults: ConfigValues = {
    source_url: "",
    master_url: "",
    master_url_endpoint: "/bspump/v1/lookup/",
    master_lookup_id: "",
    refresh_period: 0,
  };

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;
  readonly pubsub: PubSub;
  readonly lazy: boolean;
  /** Where `load()` gets the data from; undefined when the lookup is fed in code (or overrides `load()`). */
  provider: LookupProvider | undefined;
  /** The URL of the master this lookup copies; undefined for a master (file source, or no provider). */
  readonly masterUrl: string | undefined;
  /** Seconds between reloads; 0 means none. */
  readonly refreshPeriod: number;

  #digest: string | undefined;
  #running: Promise<boolean> | undefined;
  #queued: Promise<boolean> | undefined;
  #firstUse: Promise<void> | undefined;
  #loaded = false;
  #refreshing = false;
  #lastAttemptAt: number | undefined;
  #updatedAt: number | undefined;
  #changedAt: number | undefined;
  readonly #onTick = (): void => this.#refresh();

  constructor(app: PumpApplication, id?: string | LookupOptions, options: LookupOptions = {}) {
    const opts = typeof id === "object" ? id : { ...options, id: id ?? options.id };
    this.app = app;
    this.id = opts.id ?? new.target.name;
    this.lazy = opts.lazy ?? false;
    this.config = Config.forClass(new.target, `lookup:${this.id}`, opts.config, app.config);
    this.log = app.log.child({ lookup: this.id }, "bspump.lookup");
    this.pubsub = new PubSub(this.log);
    this.refreshPeriod = this.config.getSeconds("refresh_period");
    if (!(this.refreshPeriod >= 0)) {
      throw new ConfigError(`refresh_period must be 0 (off) or a positive number of seconds, got ${this.refreshPeriod}`, this.#locate("refresh_period"), "PUMP_CONFIG_VALUE");
    }
    const url = this.#sourceUrl();
    if (url !== undefined) {
      this.provider = createLookupProvider(this as Lookup<unknown, unknown>, url, { config: this.config.toObject() }, this.#locate(this.config.get("source_url").trim() === "" ? "master_url" : "source_url"));
    }
    this.masterUrl = this.provider === undefined || this.provider instanceof FileBatchLookupProvider ? undefined : url;
  }

  /** The value for a key; undefined when there is none. Synchronous lookups return it, server-backed ones a promise. */
  abstract get(key: Key): Value | undefined | Promise<Value | undefined>;

  /**
   * Loads the data; resolves whether it changed (false when there was nothing new). Throwing keeps the
   * old data; at start-up it stops the application. Lookups with a `source_url` implement it as
   * `return this.loadFromProvider()` (MappingLookup, DictionaryLookup and AsyncLookup do).
   */
  abstract load(): Promise<boolean>;

  /**
   * BSPump's `load()`: asks the provider for the data; nothing loaded (the provider logged why), no
   * provider, or the same bytes as last time is `false`, else `deserialize()` decides.
   */
  protected async loadFromProvider(): Promise<boolean> {
    const provider = this.provider;
    if (provider === undefined) return false;
    const data = await provider.load();
    if (data === undefined) {
      this.log.debug("No data loaded", { provider: provider.id });
      return false;
    }
    const digest = etagOf(data);
    if (digest === this.#digest) return false;
    const changed = this.deserialize(data);
    this.#digest = digest;
    return changed;
  }

  /** Replaces the data with what `serialize()` made; returns whether the data changed. Throws on data it cannot read, keeping what it had. */
  deserialize(_data: Uint8Array): boolean {
    throw new UsageError(`Lookup '${this.id}' (${this.constructor.name}) cannot deserialize: implement deserialize() or override load()`);
  }

  /** The data as bytes, for a master to serve its slaves. */
  serialize(): Uint8Array {
    throw new UsageError(`Lookup '${this.id}' (${this.constructor.name}) cannot serialize: implement serialize()`);
  }

  /**
   * Loads, and publishes "bspump.Lookup.changed!" when the data changed. A call while a load runs
   * waits for one more load after it (callers meanwhile share it), so it sees what changed since. A
   * failing `load()` rejects (at start-up that stops the application) and keeps the old data.
   */
  update(): Promise<boolean> {
    const running = this.#running;
    if (running === undefined) return this.#run();
    this.#queued ??= running.then(
      () => this.#next(),
      () => this.#next(),
    );
    return this.#queued;
  }

  /** Resolves once the lookup has loaded successfully (loading now if it has not): what an async processor awaits before its first `get()`. */
  async ensureLoaded(): Promise<void> {
    while (!this.#loaded) await (this.#running ?? this.update());
  }

  /** Whether a load finished successfully. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** App time (epoch seconds) of the last successful load, and of the last change. */
  get updatedAt(): number | undefined {
    return this.#updatedAt;
  }

  get changedAt(): number | undefined {
    return this.#changedAt;
  }

  /** True when the lookup owns its data (a file source or data set in code), false when it copies a master. */
  isMaster(): boolean {
    return this.masterUrl === undefined;
  }

  time(): number {
    return this.app.time();
  }

  restGet(): Record<string, unknown> {
    const etag = this.provider?.etag;
    return {
      Id: this.id,
      Class: this.constructor.name,
      Lazy: this.lazy,
      Loaded: this.#loaded,
      ...(etag === undefined ? {} : { ETag: etag }),
      ...(this.masterUrl === undefined ? {} : { MasterURL: this.masterUrl }),
      ...(this.refreshPeriod > 0 ? { RefreshPeriod: this.refreshPeriod } : {}),
    };
  }

  /**
   * For subclasses, on each use: the first use of a lazy lookup that has not loaded starts the load,
   * and returns it (a synchronous caller goes on with what the lookup has; an async one may await).
   * A failure is logged; refreshes or `update()` try again.
   */
  protected touch(): Promise<void> | undefined {
    if (!this.lazy || this.#loaded) return undefined;
    this.#firstUse ??= (this.#running ?? this.update()).then(
      () => undefined,
      (error: unknown) => this.log.error("Lookup failed to load on first use", { error }),
    );
    return this.#firstUse;
  }

  /** Publishes "bspump.Lookup.changed!" (with the lookup); for data changed in code, as `DictionaryLookup.set()` does. */
  protected notifyChanged(): void {
    this.#changedAt = this.time();
    this.log.info("Lookup changed");
    this.pubsub.publish(CHANGED, this);
  }

  /** Data was replaced in code: the next load must not take the provider's data for unchanged. */
  protected forgetLoadedVersion(): void {
    this.#digest = undefined;
  }

  #next(): Promise<boolean> {
    this.#queued = undefined;
    return this.#run();
  }

  #run(): Promise<boolean> {
    const run = this.#update();
    this.#running = run;
    const clear = (): void => {
      if (this.#running === run) this.#running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  async #update(): Promise<boolean> {
    this.#lastAttemptAt = this.time();
    if (this.refreshPeriod > 0 && !this.#refreshing) {
      this.#refreshing = true;
      this.app.pubsub.subscribe(TICK, this.#onTick);
    }
    const changed = await this.load();
    this.#loaded = true;
    this.#updatedAt = this.time();
    if (changed) this.notifyChanged();
    return changed;
  }

  #refresh(): void {
    if (this.#running !== undefined) return;
    const last = this.#lastAttemptAt;
    if (last !== undefined && this.time() - last < this.refreshPeriod) return;
    this.update().catch((error: unknown) => this.log.error("Lookup refresh failed; keeping the data it had", { error }));
  }

  /** BSPump's choice: `source_url`, else the URL built from the `master_*` keys, else none. */
  #sourceUrl(): string | undefined {
    const url = this.config.get("source_url").trim();
    if (url !== "") return url;
    const server = this.config.get("master_url").trim().replace(/\/+$/, "");
    if (server === "") return undefined;
    const base = /^[a-z][a-z0-9+.-]+:\/\//i.test(server) ? server : `http://${server}`;
    const endpoint = this.config.get("master_url_endpoint").trim().replace(/^\/+|\/+$/g, "");
    const remoteId = this.config.get("master_lookup_id").trim() || this.id;
    return [base, endpoint, encodeURIComponent(remoteId)].filter((part) => part !== "").join("/");
  }

  #locate(key: string): ConfigLocation {
    const section = this.config.section;
    return this.app.config.get(section, key) !== undefined ? this.app.config.locate(section, key) : { section, key };
  }
}

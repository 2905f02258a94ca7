import type { PumpApplication } from "../application/application.js";
import type { ConfigValues } from "../config/config.js";
import { ConfigError } from "../errors.js";
import { Lookup, type LookupOptions } from "./lookup.js";

/** What an AsyncLookup counts (BSPump's `<tech>.lookup.cache{hit,miss}` and `success{hit,miss}`). */
export interface AsyncLookupCounters {
  /** Answered from the cache. */
  hits: number;
  /** Fetched (not in the cache, or expired). */
  misses: number;
  /** Joined a fetch of the same key already under way. */
  coalesced: number;
  /** Fetches that found a value. */
  found: number;
  /** Fetches that found nothing. */
  notFound: number;
  /** Fetches that failed. */
  errors: number;
}

interface Entry<Value> {
  value: Value | undefined;
  /** App time (epoch seconds) after which the entry is stale. */
  expiresAt: number;
}

/**
 * A lookup whose values live on a server (a database, a REST service): `await lookup.get(key)` from
 * an async processor or a generator; subclasses implement `fetch(key)` (BSPump's AsyncLookupMixin with
 * the cache its database lookups build in).
 *
 * The cache keeps at most `cache_size` keys, least recently used out first, each for `cache_ttl`
 * seconds; a key the server does not know (`fetch` resolved undefined) for `cache_miss_ttl` seconds, so
 * a stream of unknown keys does not hammer the server, nor hides a new key for long. Concurrent
 * `get`s of one key share one fetch. A failed fetch rejects every caller waiting on it and is not
 * cached: the next `get` asks again. `cache_size = 0` or `cache_ttl = 0` turn the cache off (fetches
 * are still shared). Time is the application's clock (`app.time()`).
 *
 * Unlike BSPump's database lookups, whose default cache is an unbounded dict that keeps misses forever,
 * the cache is bounded and expires.
 */
export abstract class AsyncLookup<Key = string, Value = unknown> extends Lookup<Key, Value> {
  static override ConfigDefaults: ConfigValues = {
    cache_size: 1000,
    cache_ttl: 60,
    cache_miss_ttl: 5,
  };

  readonly cacheSize: number;
  readonly cacheTtl: number;
  readonly cacheMissTtl: number;
  readonly counters: AsyncLookupCounters = { hits: 0, misses: 0, coalesced: 0, found: 0, notFound: 0, errors: 0 };
  /** Keys in least-recently-used order (Map keeps insertion order; a hit moves its key to the end). */
  readonly #cache = new Map<unknown, Entry<Value>>();
  readonly #inflight = new Map<unknown, Promise<Value | undefined>>();
  /** Bumped when the cache is cleared: a fetch begun before must not store its (maybe stale) answer. */
  #generation = 0;

  constructor(app: PumpApplication, id?: string | LookupOptions, options?: LookupOptions) {
    super(app, id, options);
    this.cacheSize = this.config.getInt("cache_size");
    this.cacheTtl = this.config.getSeconds("cache_ttl");
    this.cacheMissTtl = this.config.getSeconds("cache_miss_ttl");
    for (const [key, value] of [["cache_size", this.cacheSize], ["cache_ttl", this.cacheTtl], ["cache_miss_ttl", this.cacheMissTtl]] as const) {
      if (!(value >= 0)) {
        const section = this.config.section;
        const at = app.config.get(section, key) !== undefined ? app.config.locate(section, key) : { section, key };
        throw new ConfigError(`must be 0 or more, got ${value}`, at, "PUMP_CONFIG_VALUE");
      }
    }
  }

  /** From the provider of `source_url`, if any, into `deserialize()` (nothing by default); a database lookup may count its rows here. */
  load(): Promise<boolean> {
    return this.loadFromProvider();
  }

  /** Asks the server for the value of a key; undefined when it has none. A rejection is passed to the callers, not cached. */
  protected abstract fetch(key: Key): Promise<Value | undefined>;

  /** What identifies a key in the cache; override for keys that are objects (e.g. return a string). */
  protected cacheKey(key: Key): unknown {
    return key;
  }

  /** The value, from the cache or the server. A lazy lookup loads (`load()`) before its first answer. */
  async get(key: Key): Promise<Value | undefined> {
    const first = this.touch();
    if (first !== undefined) await first;
    const id = this.cacheKey(key);
    const entry = this.#cache.get(id);
    if (entry !== undefined) {
      this.#cache.delete(id);
      if (entry.expiresAt > this.time()) {
        this.#cache.set(id, entry);
        this.counters.hits++;
        return entry.value;
      }
    }
    const pending = this.#inflight.get(id);
    if (pending !== undefined) {
      this.counters.coalesced++;
      return pending;
    }
    this.counters.misses++;
    const fetching = this.#fetch(key, id, this.#generation);
    this.#inflight.set(id, fetching);
    const done = (): void => {
      if (this.#inflight.get(id) === fetching) this.#inflight.delete(id);
    };
    // Registered before the caller's own reactions, so a caller that asks again once answered fetches anew.
    fetching.then(done, done);
    return fetching;
  }

  /** Forgets one key; true if it was cached. */
  invalidate(key: Key): boolean {
    return this.#cache.delete(this.cacheKey(key));
  }

  /** Forgets every key (fetches under way will not store their answers). Done on each change `update()` reports. */
  clearCache(): void {
    this.#cache.clear();
    this.#generation++;
  }

  /** Keys cached now (expired ones included until they are next asked for or pushed out). */
  get cached(): number {
    return this.#cache.size;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Cached: this.#cache.size, CacheSize: this.cacheSize, Counters: { ...this.counters } };
  }

  protected override notifyChanged(): void {
    this.clearCache();
    super.notifyChanged();
  }

  async #fetch(key: Key, id: unknown, generation: number): Promise<Value | undefined> {
    try {
      const value = await this.fetch(key);
      if (value === undefined) this.counters.notFound++;
      else this.counters.found++;
      const ttl = value === undefined ? this.cacheMissTtl : this.cacheTtl;
      if (generation === this.#generation && ttl > 0 && this.cacheSize > 0 && this.cacheTtl > 0) this.#store(id, { value, expiresAt: this.time() + ttl });
      return value;
    } catch (error) {
      this.counters.errors++;
      throw error;
    }
  }

  #store(id: unknown, entry: Entry<Value>): void {
    this.#cache.delete(id);
    this.#cache.set(id, entry);
    while (this.#cache.size > this.cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
  }
}

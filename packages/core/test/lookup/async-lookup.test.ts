import { describe, expect, it } from "vitest";
import { ConfigError, Generator, Pipeline, type Context, type PumpApplication } from "../../src/index.js";
import { AsyncLookup, Lookup, type LookupOptions } from "../../src/lookup/index.js";
import { UnitTestSink, ListSource, createApp, until } from "../helpers.js";
import { appWith, clockOf } from "./support.js";

/** A "server" the test answers by hand: each fetch waits until the test resolves or rejects it. */
class UserLookup extends AsyncLookup<string, { name: string }> {
  readonly asked: string[] = [];
  readonly pending = new Map<string, PromiseWithResolvers<{ name: string } | undefined>[]>();
  /** When set, fetches answer at once from this table instead of waiting. */
  table: Record<string, { name: string }> | undefined;
  loads = 0;

  constructor(app: PumpApplication, options: LookupOptions = {}) {
    super(app, { id: "Users", ...options });
  }

  override async load(): Promise<boolean> {
    this.loads++;
    return false;
  }

  protected fetch(key: string): Promise<{ name: string } | undefined> {
    this.asked.push(key);
    if (this.table !== undefined) return Promise.resolve(this.table[key]);
    const answer = Promise.withResolvers<{ name: string } | undefined>();
    this.pending.set(key, [...(this.pending.get(key) ?? []), answer]);
    return answer.promise;
  }

  answer(key: string, value: { name: string } | undefined): void {
    const waiting = this.pending.get(key)?.shift();
    if (waiting === undefined) throw new Error(`nobody asked for ${key}`);
    waiting.resolve(value);
  }

  fail(key: string, error: Error): void {
    this.pending.get(key)?.shift()?.reject(error);
  }
}

function users(config: Record<string, string | number> = {}, options: LookupOptions = {}) {
  const app = createApp();
  const clock = clockOf(app, 1000);
  const lookup = new UserLookup(app, { ...options, config });
  lookup.table = { alice: { name: "Alice" }, bob: { name: "Bob" }, carol: { name: "Carol" } };
  return { app, clock, lookup };
}

describe("AsyncLookup", () => {
  it("is a Lookup whose get() fetches on a miss and answers from the cache on a hit", async () => {
    const { lookup } = users();
    expect(lookup).toBeInstanceOf(Lookup);
    expect(await lookup.get("alice")).toEqual({ name: "Alice" });
    expect(await lookup.get("alice")).toEqual({ name: "Alice" });
    expect(lookup.asked).toEqual(["alice"]);
    expect(lookup.counters).toEqual({ hits: 1, misses: 1, coalesced: 0, found: 1, notFound: 0, errors: 0 });
    expect(lookup.cached).toBe(1);
  });

  it("an entry expires after cache_ttl seconds of the application clock", async () => {
    const { lookup, clock } = users({ cache_ttl: 60 });
    await lookup.get("alice");
    clock.now += 59;
    await lookup.get("alice");
    expect(lookup.asked).toEqual(["alice"]);
    clock.now += 1;
    await lookup.get("alice");
    expect(lookup.asked).toEqual(["alice", "alice"]);
    expect(lookup.counters.misses).toBe(2);
    expect(lookup.counters.hits).toBe(1);
  });

  it("a miss (undefined) is cached too, but only for cache_miss_ttl seconds", async () => {
    const { lookup, clock } = users({ cache_ttl: 600, cache_miss_ttl: 5 });
    expect(await lookup.get("dave")).toBeUndefined();
    expect(await lookup.get("dave")).toBeUndefined();
    expect(lookup.asked).toEqual(["dave"]);
    expect(lookup.counters.notFound).toBe(1);
    clock.now += 5;
    lookup.table!.dave = { name: "Dave" };
    expect(await lookup.get("dave")).toEqual({ name: "Dave" });
    expect(lookup.asked).toEqual(["dave", "dave"]);
    clock.now += 500;
    expect(await lookup.get("dave")).toEqual({ name: "Dave" });
    expect(lookup.asked).toHaveLength(2);
  });

  it("cache_miss_ttl = 0 does not cache misses", async () => {
    const { lookup } = users({ cache_miss_ttl: 0 });
    await lookup.get("dave");
    await lookup.get("dave");
    expect(lookup.asked).toEqual(["dave", "dave"]);
  });

  it("concurrent gets of one key share one fetch", async () => {
    const { lookup } = users();
    lookup.table = undefined;
    const a = lookup.get("alice");
    const b = lookup.get("alice");
    const c = lookup.get("bob");
    await Promise.resolve();
    expect(lookup.asked).toEqual(["alice", "bob"]);
    lookup.answer("alice", { name: "Alice" });
    lookup.answer("bob", { name: "Bob" });
    expect(await a).toEqual({ name: "Alice" });
    expect(await b).toEqual({ name: "Alice" });
    expect(await c).toEqual({ name: "Bob" });
    expect(lookup.counters).toMatchObject({ misses: 2, coalesced: 1, hits: 0 });
    expect(await lookup.get("alice")).toEqual({ name: "Alice" });
    expect(lookup.asked).toEqual(["alice", "bob"]);
  });

  it("a failed fetch rejects every caller waiting on it and is not cached: the next get asks again", async () => {
    const { lookup } = users();
    lookup.table = undefined;
    const a = lookup.get("alice");
    const b = lookup.get("alice");
    await Promise.resolve();
    lookup.fail("alice", new Error("db down"));
    await expect(a).rejects.toThrow("db down");
    await expect(b).rejects.toThrow("db down");
    expect(lookup.cached).toBe(0);
    expect(lookup.counters.errors).toBe(1);
    const c = lookup.get("alice");
    await Promise.resolve();
    expect(lookup.asked).toEqual(["alice", "alice"]);
    lookup.answer("alice", { name: "Alice" });
    expect(await c).toEqual({ name: "Alice" });
  });

  it("keeps at most cache_size keys, the least recently used going first", async () => {
    const { lookup } = users({ cache_size: 2 });
    await lookup.get("alice");
    await lookup.get("bob");
    await lookup.get("alice"); // alice is now the most recently used
    await lookup.get("carol"); // pushes bob out
    expect(lookup.cached).toBe(2);
    await lookup.get("alice");
    await lookup.get("carol");
    expect(lookup.asked).toEqual(["alice", "bob", "carol"]);
    await lookup.get("bob");
    expect(lookup.asked).toEqual(["alice", "bob", "carol", "bob"]);
  });

  it("cache_size = 0 turns the cache off (fetches are still shared)", async () => {
    const { lookup } = users({ cache_size: 0 });
    await lookup.get("alice");
    await lookup.get("alice");
    expect(lookup.asked).toEqual(["alice", "alice"]);
    expect(lookup.cached).toBe(0);
  });

  it("invalidate() forgets a key, clearCache() all, and a fetch under way during a clear does not store its answer", async () => {
    const { lookup } = users();
    await lookup.get("alice");
    await lookup.get("bob");
    expect(lookup.invalidate("alice")).toBe(true);
    expect(lookup.invalidate("alice")).toBe(false);
    await lookup.get("alice");
    expect(lookup.asked).toEqual(["alice", "bob", "alice"]);
    lookup.table = undefined;
    const late = lookup.get("carol");
    await Promise.resolve();
    lookup.clearCache();
    expect(lookup.cached).toBe(0);
    lookup.answer("carol", { name: "Old Carol" });
    expect(await late).toEqual({ name: "Old Carol" });
    expect(lookup.cached).toBe(0);
  });

  it("a change reported by update() clears the cache", async () => {
    class Versioned extends UserLookup {
      override async load(): Promise<boolean> {
        return true;
      }
    }
    const app = createApp();
    const lookup = new Versioned(app);
    lookup.table = { alice: { name: "Alice" } };
    await lookup.get("alice");
    await lookup.update();
    expect(lookup.cached).toBe(0);
    await lookup.get("alice");
    expect(lookup.asked).toEqual(["alice", "alice"]);
  });

  it("cacheKey() lets object keys share entries", async () => {
    class ByObject extends AsyncLookup<{ id: number }, string> {
      fetched = 0;
      protected async fetch(key: { id: number }): Promise<string> {
        this.fetched++;
        return `user ${key.id}`;
      }
      protected override cacheKey(key: { id: number }): unknown {
        return key.id;
      }
    }
    const lookup = new ByObject(createApp(), "ByObject");
    expect(await lookup.get({ id: 1 })).toBe("user 1");
    expect(await lookup.get({ id: 1 })).toBe("user 1");
    expect(lookup.fetched).toBe(1);
  });

  it("a lazy AsyncLookup loads before its first answer, once", async () => {
    const { lookup } = users({}, { lazy: true });
    expect(lookup.loads).toBe(0);
    await lookup.get("alice");
    await lookup.get("bob");
    expect(lookup.loads).toBe(1);
    expect(lookup.loaded).toBe(true);
  });

  it("serves an async generator in a pipeline (BSPump's enricher pattern)", async () => {
    const app = createApp();
    const lookup = app.pumpService.addLookup(new UserLookup(app));
    lookup.table = { alice: { name: "Alice" } };
    class Enricher extends Generator<{ user: string }, { user: string; name: string | undefined }> {
      readonly users = this.app.pumpService.locateLookup<UserLookup>("Users");
      async generate(context: Context, event: { user: string }, depth: number): Promise<void> {
        const info = await this.users.get(event.user);
        this.pipeline.inject(context, { ...event, name: info?.name }, depth);
      }
    }
    const p = new Pipeline(app, "P");
    const source = new ListSource<{ user: string }>(app, p);
    source.events = [{ user: "alice" }, { user: "alice" }, { user: "zoe" }];
    const sink = new UnitTestSink(app, p);
    p.build(source, new Enricher(app, p), sink);
    await p.start();
    await until(() => sink.events.length === 3, "three events");
    expect(sink.events).toEqual(expect.arrayContaining([{ user: "alice", name: "Alice" }, { user: "zoe", name: undefined }]));
    expect(lookup.asked.toSorted()).toEqual(["alice", "zoe"]);
    await p.stop();
  });

  it("restGet() shows the cache and its counters", async () => {
    const { lookup } = users({ cache_size: 10 });
    await lookup.get("alice");
    expect(lookup.restGet()).toMatchObject({ Id: "Users", Class: "UserLookup", Cached: 1, CacheSize: 10, Counters: { misses: 1, found: 1 } });
  });

  it.each([
    ["cache_size", "-1", /<test\.conf>:2 \[lookup:Users\] key 'cache_size': must be 0 or more/],
    ["cache_size", "many", /key 'cache_size': expected an integer/],
    ["cache_ttl", "-3", /key 'cache_ttl': must be 0 or more/],
  ])("%s = %s is a ConfigError", (key, value, message) => {
    const app = appWith(`[lookup:Users]\n${key} = ${value}\n`);
    expect(() => new UserLookup(app)).toThrow(ConfigError);
    expect(() => new UserLookup(app)).toThrow(message);
  });
});

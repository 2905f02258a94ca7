import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, Pipeline, Processor, Source, type Context, type PumpApplication } from "../../src/index.js";
import { DictionaryLookup, unregisterLookupProvider } from "../../src/lookup/index.js";
import { UnitTestSink, ListSource, captureLogs, createApp, until } from "../helpers.js";
import { appWith, clockOf, memory, memoryGates, memoryLoads, tempDir, useMemoryProvider, type TempDir } from "./support.js";

let tmp: TempDir;
beforeEach(() => {
  tmp = tempDir();
  useMemoryProvider();
});
afterEach(() => {
  tmp.remove();
  unregisterLookupProvider("mem:");
  memory.clear();
  memoryLoads.clear();
  memoryGates.clear();
  vi.useRealTimers();
});

/** Lets pending promise reactions and immediates run (the memory provider does no I/O). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Counts "bspump.Lookup.changed!" publications. */
function changesOf(lookup: DictionaryLookup<unknown>): { count: number } {
  const changes = { count: 0 };
  lookup.pubsub.subscribe("bspump.Lookup.changed!", () => changes.count++);
  return changes;
}

/** Adds the country name from the lookup it locates by id, as any processor can. */
class Enrich extends Processor<{ code: string }, { code: string; country: string | undefined }> {
  readonly countries = this.app.pumpService.locateLookup<DictionaryLookup<string>>("Countries");
  process(_context: Context, event: { code: string }) {
    return { ...event, country: this.countries.get(event.code) };
  }
}

/** Records, when it starts, what the lookup holds. */
class Peek extends Source {
  seen: unknown[] = [];
  async main(): Promise<void> {
    const lookup = this.app.pumpService.locateLookup<DictionaryLookup<string>>("Countries");
    this.seen.push(lookup.loaded, lookup.get("CZ"));
    await this.stopped();
  }
}

describe("loading at start-up", () => {
  it("PumpService.initialize() loads eager lookups before the pipelines start; processors find them by id", async () => {
    const app = appWith(`[lookup:Countries]\nsource_url = ${tmp.write("countries.json", { CZ: "Czechia", SK: "Slovakia" })}\n`);
    const lookup = app.pumpService.addLookup(new DictionaryLookup<string>(app, "Countries"));
    const p = new Pipeline(app, "P");
    const source = new ListSource<{ code: string }>(app, p);
    source.events = [{ code: "CZ" }, { code: "DE" }];
    const sink = new UnitTestSink(app, p);
    p.build(source, new Enrich(app, p), sink);
    const q = new Pipeline(app, "Q");
    const peek = new Peek(app, q);
    q.build(peek, new UnitTestSink(app, q));
    app.pumpService.addPipelines(p, q);
    expect(lookup.loaded).toBe(false);
    await app.pumpService.initialize();
    await until(() => sink.events.length === 2 && peek.seen.length === 2, "events and the peek");
    expect(peek.seen).toEqual([true, "Czechia"]);
    expect(sink.events).toEqual([{ code: "CZ", country: "Czechia" }, { code: "DE", country: undefined }]);
    await app.pumpService.finalize();
  });

  it("a lazy lookup is not loaded at start-up; its first use starts the load, and it answers once loaded", async () => {
    const path = tmp.write("countries.json", { CZ: "Czechia" });
    const app = createApp();
    const lookup = app.pumpService.addLookup(new DictionaryLookup<string>(app, { id: "Countries", lazy: true, config: { source_url: path } }));
    const changes = changesOf(lookup);
    await app.pumpService.initialize();
    expect(lookup.loaded).toBe(false);
    expect(lookup.restGet()).toEqual({ Id: "Countries", Class: "DictionaryLookup", Lazy: true, Loaded: false, Size: 0 });
    expect(lookup.loaded).toBe(false); // showing it did not load it
    expect(lookup.get("CZ")).toBeUndefined(); // a synchronous first use goes on with what there is...
    await lookup.ensureLoaded(); // ...and an async one can wait
    expect(lookup.get("CZ")).toBe("Czechia");
    expect(changes.count).toBe(1);
    await app.pumpService.finalize();
  });

  it("the first use loads once, however many uses follow before it is done", async () => {
    memory.set("l", '{"a": 1}');
    const lookup = new DictionaryLookup(createApp(), { id: "L", lazy: true, config: { source_url: "mem:l" } });
    expect(lookup.has("a")).toBe(false);
    expect(lookup.size).toBe(0);
    expect([...lookup.keys()]).toEqual([]);
    await settle();
    expect(lookup.get("a")).toBe(1);
    expect(memoryLoads.get("l")).toBe(1);
  });

  it("an explicit update() loads a lazy lookup", async () => {
    memory.set("l", '{"a": 1}');
    const lookup = new DictionaryLookup(createApp(), { id: "L", lazy: true, config: { source_url: "mem:l" } });
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.get("a")).toBe(1);
    expect(memoryLoads.get("l")).toBe(1);
  });

  it("a lazy lookup whose first load fails logs it, keeps answering with what it has, and loads on a later update()", async () => {
    const logs = captureLogs();
    try {
      memory.set("l", new Error("master down"));
      const lookup = new DictionaryLookup(createApp(), { id: "L", lazy: true, config: { source_url: "mem:l" } });
      expect(lookup.get("a")).toBeUndefined();
      await settle();
      expect(logs.records.some((r) => r.level === "error" && r.message === "Lookup failed to load on first use" && (r.fields.error as Error).message === "master down")).toBe(true);
      expect(lookup.get("a")).toBeUndefined();
      expect(memoryLoads.get("l")).toBe(1); // uses after a failure do not hammer the source
      memory.set("l", '{"a": 1}');
      await lookup.ensureLoaded();
      expect(lookup.get("a")).toBe(1);
    } finally {
      logs.restore();
    }
  });

  it("data a non-lazy lookup cannot read stops the start-up, as any failing load does", async () => {
    const logs = captureLogs();
    try {
      const app = appWith(`[lookup:Broken]\nsource_url = ${tmp.write("broken.json", "{not json")}\n`);
      app.pumpService.addLookup(new DictionaryLookup(app, "Broken"));
      expect(await app.run()).toBe(1);
      expect(logs.records.some((r) => r.message === "Start-up failed" && /'lookup:Broken': cannot deserialize/.test((r.fields.error as Error).message))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("a missing file does not stop the start-up: a warning, and the lookup is empty", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const lookup = app.pumpService.addLookup(new DictionaryLookup(app, "L", { config: { source_url: `${tmp.dir}/nope.json` } }));
      await app.pumpService.initialize();
      expect(lookup.size).toBe(0);
      expect(lookup.loaded).toBe(true);
      expect(logs.records.some((r) => r.level === "warn" && /nope\.json' does not exist/.test(r.message))).toBe(true);
      await app.pumpService.finalize();
    } finally {
      logs.restore();
    }
  });
});

describe("update()", () => {
  it("calls made while a load runs share one more load after it", async () => {
    memory.set("l", '{"v": 1}');
    const lookup = new DictionaryLookup(createApp(), "L", { config: { source_url: "mem:l" } });
    const first = lookup.update();
    memory.set("l", '{"v": 2}'); // changed after the running load read it
    const second = lookup.update();
    const third = lookup.update();
    expect(third).toBe(second);
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(lookup.get("v")).toBe(2);
    expect(memoryLoads.get("l")).toBe(2);
    expect(await lookup.update()).toBe(false);
    expect(memoryLoads.get("l")).toBe(3);
  });

  it("a failing load rejects and keeps the data; the next update tries again", async () => {
    memory.set("l", '{"v": 1}');
    const lookup = new DictionaryLookup(createApp(), "L", { config: { source_url: "mem:l" } });
    await lookup.update();
    memory.set("l", new Error("connection refused"));
    await expect(lookup.update()).rejects.toThrow("connection refused");
    expect(lookup.get("v")).toBe(1);
    memory.set("l", '{"v": 3}');
    await expect(lookup.update()).resolves.toBe(true);
    expect(lookup.get("v")).toBe(3);
  });
});

/** A lookup over "mem:l" refreshing every `period`, on an application whose clock the test moves. */
function refreshing(period: string | number, options: { lazy?: boolean } = {}) {
  const app = createApp();
  const clock = clockOf(app);
  memory.set("l", '{"v": 1}');
  const lookup = new DictionaryLookup(app, { id: "L", lazy: options.lazy, config: { source_url: "mem:l", refresh_period: period } });
  const changes = changesOf(lookup);
  /** Moves the clock on by whole seconds, ticking the application each second. */
  const advance = async (seconds: number): Promise<void> => {
    for (let i = 0; i < seconds; i++) {
      clock.now += 1;
      app.tick();
      await settle();
    }
  };
  return { app, clock, lookup, changes, advance };
}

describe("refresh_period", () => {
  it("reloads every refresh_period seconds of the application clock; a change is published, no change is not", async () => {
    const { lookup, changes, advance } = refreshing(10);
    expect(lookup.refreshPeriod).toBe(10);
    expect(lookup.restGet()).toMatchObject({ RefreshPeriod: 10 });
    await lookup.update();
    expect(memoryLoads.get("l")).toBe(1);
    await advance(9);
    expect(memoryLoads.get("l")).toBe(1);
    await advance(1);
    expect(memoryLoads.get("l")).toBe(2);
    expect(changes.count).toBe(1); // unchanged: nothing published
    memory.set("l", '{"v": 2}');
    await advance(10);
    expect(memoryLoads.get("l")).toBe(3);
    expect(lookup.get("v")).toBe(2);
    expect(changes.count).toBe(2);
    await advance(25);
    expect(memoryLoads.get("l")).toBe(5);
    expect(changes.count).toBe(2);
  });

  it("reloads a changed file and publishes it; an unchanged file is not published", async () => {
    const path = tmp.write("l.json", { v: 1 });
    const app = createApp();
    const clock = clockOf(app);
    const lookup = new DictionaryLookup(app, "L", { config: { source_url: path, refresh_period: "1m" } });
    const changes = changesOf(lookup);
    await lookup.update();
    clock.now += 60;
    app.tick();
    await until(() => lookup.updatedAt === clock.now, "the unchanged reload");
    expect(changes.count).toBe(1);
    tmp.write("l.json", { v: 2 });
    clock.now += 60;
    app.tick();
    await until(() => changes.count === 2, "the changed reload");
    expect(lookup.get("v")).toBe(2);
  });

  it("a missing file on refresh warns and keeps the old data; nothing is published", async () => {
    const logs = captureLogs();
    try {
      const path = tmp.write("l.json", { v: 1 });
      const app = createApp();
      const clock = clockOf(app);
      const lookup = new DictionaryLookup(app, "L", { config: { source_url: path, refresh_period: 5 } });
      const changes = changesOf(lookup);
      await lookup.update();
      tmp.remove();
      clock.now += 5;
      app.tick();
      await until(() => lookup.updatedAt === clock.now, "the refresh");
      expect(lookup.get("v")).toBe(1);
      expect(changes.count).toBe(1);
      expect(logs.records.some((r) => r.level === "warn" && /l\.json' does not exist/.test(r.message))).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("a failing refresh is logged, keeps the data, and the next period tries again", async () => {
    const logs = captureLogs();
    try {
      const { lookup, advance } = refreshing(5);
      await lookup.update();
      memory.set("l", "{broken");
      await advance(5);
      expect(lookup.get("v")).toBe(1);
      const failure = logs.records.find((r) => r.level === "error" && /Lookup refresh failed/.test(r.message));
      expect(failure?.fields.lookup).toBe("L");
      memory.set("l", '{"v": 7}');
      await advance(5);
      expect(lookup.get("v")).toBe(7);
    } finally {
      logs.restore();
    }
  });

  it("a refresh that is still loading when the next period comes is not doubled", async () => {
    const { lookup, advance } = refreshing(1);
    await lookup.update();
    const gate = Promise.withResolvers<void>();
    memoryGates.set("l", gate.promise);
    await advance(5);
    expect(memoryLoads.get("l")).toBe(2);
    memoryGates.delete("l");
    gate.resolve();
    await settle();
    expect(memoryLoads.get("l")).toBe(2);
    await advance(1);
    expect(memoryLoads.get("l")).toBe(3);
  });

  it("0 (the default) never refreshes", async () => {
    const { lookup, advance } = refreshing(0);
    await lookup.update();
    await advance(100);
    expect(memoryLoads.get("l")).toBe(1);
  });

  it("a lazy lookup starts refreshing only once it was used", async () => {
    const { lookup, advance } = refreshing(5, { lazy: true });
    await advance(20);
    expect(memoryLoads.get("l")).toBeUndefined();
    lookup.get("v");
    await settle();
    expect(memoryLoads.get("l")).toBe(1);
    await advance(5);
    expect(memoryLoads.get("l")).toBe(2);
  });

  it.each([["-5"], ["soon"]])("refresh_period %s is a ConfigError", (value) => {
    const app = appWith(`[lookup:L]\nrefresh_period = ${value}\n`);
    expect(() => new DictionaryLookup(app, "L")).toThrow(ConfigError);
    expect(() => new DictionaryLookup(app, "L")).toThrow(/<test\.conf>:2 \[lookup:L\] key 'refresh_period'/);
  });

  it("refreshes on the running application's ticks, and leaves no timer behind when run() resolves", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    memory.set("l", '{"v": 1}');
    const app: PumpApplication = appWith("[lookup:L]\nsource_url = mem:l\nrefresh_period = 10\n");
    const lookup = app.pumpService.addLookup(new DictionaryLookup(app, "L"));
    const changes = changesOf(lookup);
    const running = app.run();
    await vi.advanceTimersByTimeAsync(0);
    expect(lookup.get("v")).toBe(1);
    expect(memoryLoads.get("l")).toBe(1);
    memory.set("l", '{"v": 2}');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(memoryLoads.get("l")).toBe(2);
    expect(lookup.get("v")).toBe(2);
    expect(changes.count).toBe(2);
    app.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(await running).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(memoryLoads.get("l")).toBe(2);
  });
});

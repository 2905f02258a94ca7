import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConfigError,
  CronTrigger,
  OpportunisticTrigger,
  PeriodicTrigger,
  Pipeline,
  PubSub,
  PubSubTrigger,
  RunOnceTrigger,
  Source,
  StoppedError,
  Trigger,
  TriggerSource,
  type PumpApplication,
} from "../src/index.js";
import { UnitTestSink, captureLogs, createApp, until } from "./helpers.js";

/** A trigger source that counts its cycles, sends the cycle number on, and can be held or made to fail. */
class Cycles extends TriggerSource<number> {
  cycles = 0;
  active = 0;
  maxActive = 0;
  /** Epoch ms at the start of each cycle. */
  readonly beganAt: number[] = [];
  /** While set, each cycle waits for it. */
  gate: PromiseWithResolvers<void> | undefined;
  /** A cycle lasts this many ms (setTimeout, so fake timers drive it). */
  lastsMs = 0;
  /** The next cycle throws this. */
  failNext: Error | undefined;

  async cycle(): Promise<void> {
    this.cycles++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.beganAt.push(Date.now());
    try {
      if (this.gate !== undefined) await this.gate.promise;
      if (this.lastsMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lastsMs));
      const failure = this.failNext;
      this.failNext = undefined;
      if (failure !== undefined) throw failure;
      await this.process(this.cycles);
    } finally {
      this.active--;
    }
  }
}

function cyclePipeline(app: PumpApplication, trigger: Trigger, id = "P"): { p: Pipeline; source: Cycles; sink: UnitTestSink<number> } {
  const p = new Pipeline(app, id);
  const source = new Cycles(app, p).on(trigger);
  const sink = new UnitTestSink<number>(app, p);
  p.build(source, sink);
  return { p, source, sink };
}

/**
 * Under fake timers: lets what is due finish. Timers (and immediates) scheduled while the fake clock
 * runs come 1 ms later, so this moves the clock on by a few ms.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(1);
}

/** Records when (fake epoch ms) a trigger fires. */
function recordFires(trigger: Trigger): number[] {
  const fires: number[] = [];
  const fire = trigger.fire.bind(trigger);
  trigger.fire = () => {
    fires.push(Date.now());
    fire();
  };
  return fires;
}

/** Under fake timers: stops the pipeline while driving the fake clock (a cycle may be waiting on a fake timer). */
async function stopFake(p: Pipeline): Promise<void> {
  const state = { stopped: false };
  const stopping = p.stop().then(() => (state.stopped = true));
  for (let i = 0; i < 1_000 && !state.stopped; i++) await vi.advanceTimersByTimeAsync(10);
  await stopping;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Lets the event loop turn a few times (real timers): enough for anything already due to happen. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("PeriodicTrigger", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires every interval, the first time one interval after the source starts, never before start", async () => {
    const app = createApp();
    const trigger = new PeriodicTrigger(app, 5);
    const fires = recordFires(trigger);
    const { p, source, sink } = cyclePipeline(app, trigger);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fires).toEqual([]);
    expect(trigger.armed).toBe(false);

    await p.start();
    const start = Date.now();
    expect(trigger.armed).toBe(true);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(fires).toEqual([]);
    expect(source.cycles).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fires).toEqual([start + 5_000]);
    await settle();
    expect(source.cycles).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(fires.map((at) => at - start)).toEqual([5_000, 10_000, 15_000]);
    expect(source.cycles).toBe(3);
    expect(sink.events).toEqual([1, 2, 3]);
    expect(trigger.lastFireAt).toBe((start + 15_000) / 1000);
    await stopFake(p);
  });

  it("leaves no timer behind once the pipeline stopped, and starts counting afresh on restart", async () => {
    const app = createApp();
    const trigger = new PeriodicTrigger(app, 2);
    const fires = recordFires(trigger);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    await vi.advanceTimersByTimeAsync(3_000);
    await settle();
    expect(source.cycles).toBe(1);
    await stopFake(p);
    expect(trigger.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fires).toHaveLength(1);

    await p.start();
    const restart = Date.now();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(fires).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fires.at(-1)).toBe(restart + 2_000);
    await settle();
    expect(source.cycles).toBe(2);
    await stopFake(p);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("takes fractions of a second and intervals of days", async () => {
    const app = createApp();
    const fast = new PeriodicTrigger(app, 0.25);
    const daily = new PeriodicTrigger(app, 86_400);
    const fastFires = recordFires(fast);
    const dailyFires = recordFires(daily);
    const a = cyclePipeline(app, fast, "A");
    const b = cyclePipeline(app, daily, "B");
    await a.p.start();
    await b.p.start();
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fastFires.map((at) => at - start)).toEqual([250, 500, 750, 1_000]);
    await stopFake(a.p);
    await vi.advanceTimersByTimeAsync(86_400_000 - Date.now() + start);
    expect(dailyFires.map((at) => at - start)).toEqual([86_400_000]);
    await settle();
    expect(b.source.cycles).toBe(1);
    await stopFake(b.p);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 30 * 86_400])("rejects the interval %s", (interval) => {
    const app = createApp();
    expect(() => new PeriodicTrigger(app, interval)).toThrow(RangeError);
    expect(() => new PeriodicTrigger(app, interval)).toThrow(/interval/);
  });

  it("takes an id and maxTriggered as options (BSPump passed id into max_triggered by mistake)", () => {
    const app = createApp();
    const trigger = new PeriodicTrigger(app, 5, { id: "Every5", maxTriggered: 2 });
    expect(trigger.id).toBe("Every5");
    expect(trigger.maxTriggered).toBe(2);
    expect(new PeriodicTrigger(app).id).toBe("PeriodicTrigger");
    expect(new PeriodicTrigger(app).interval).toBe(1);
  });
});

describe("CronTrigger", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires on its schedule (six fields: seconds first) and leaves no timer after stop", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const app = createApp();
    const trigger = new CronTrigger(app, "*/10 * * * * *");
    const fires = recordFires(trigger);
    const { p, source } = cyclePipeline(app, trigger);
    await vi.advanceTimersByTimeAsync(60_000); // not started: the schedule is not running
    expect(fires).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);

    await p.start(); // 00:01:00
    await vi.advanceTimersByTimeAsync(9_999);
    expect(fires).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fires.map(iso)).toEqual(["2030-01-01T00:01:10.000Z"]);
    await settle();
    expect(source.cycles).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    await settle();
    expect(fires.map(iso)).toEqual(["2030-01-01T00:01:10.000Z", "2030-01-01T00:01:20.000Z", "2030-01-01T00:01:30.000Z"]);
    expect(source.cycles).toBe(3);

    await stopFake(p);
    expect(trigger.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fires).toHaveLength(3);
    expect(source.cycles).toBe(3);
  });

  it("reads five fields as minute-level cron and fires at second 0", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:30Z") });
    const app = createApp();
    const trigger = new CronTrigger(app, "*/2 * * * *", { timezone: "UTC" });
    const fires = recordFires(trigger);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    await vi.advanceTimersByTimeAsync(89_999);
    expect(fires).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fires.map(iso)).toEqual(["2030-01-01T00:02:00.000Z"]);
    await settle();
    expect(source.cycles).toBe(1);
    await stopFake(p);
  });

  it("nextRun() says when it fires next, in the time zone given", () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const app = createApp();
    expect(new CronTrigger(app, "0 12 * * *", { timezone: "UTC" }).nextRun()?.toISOString()).toBe("2030-01-01T12:00:00.000Z");
    const tokyo = new CronTrigger(app, "0 12 * * *", { timezone: "Asia/Tokyo" });
    expect(tokyo.timezone).toBe("Asia/Tokyo");
    expect(tokyo.nextRun()?.toISOString()).toBe("2030-01-01T03:00:00.000Z");
    expect(new CronTrigger(app, "0 0 30 2 *", { timezone: "UTC" }).nextRun()).toBeUndefined(); // 30 February
  });

  it("fires at the wall-clock time of its time zone", async () => {
    vi.useFakeTimers({ now: new Date("2029-12-31T23:59:50Z") });
    const app = createApp();
    const trigger = new CronTrigger(app, "0 0 9 * * *", { timezone: "Asia/Tokyo" });
    const fires = recordFires(trigger);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    await vi.advanceTimersByTimeAsync(10_000); // 09:00 in Tokyo is 00:00 UTC
    expect(fires.map(iso)).toEqual(["2030-01-01T00:00:00.000Z"]);
    await settle();
    expect(source.cycles).toBe(1);
    await stopFake(p);
  });

  it.each(["bogus", "61 * * * *", "* * * *", ""])("rejects the expression '%s' with a ConfigError naming it", (expression) => {
    const app = createApp();
    let error: unknown;
    try {
      expect(new CronTrigger(app, expression)).toBeUndefined();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`'${expression}'`);
    expect((error as ConfigError).code).toBe("PUMP_CONFIG_VALUE");
  });

  it("rejects an unknown time zone when constructed, not when the pipeline starts", async () => {
    const app = createApp();
    expect(() => new CronTrigger(app, "* * * * *", { timezone: "Mars/Olympus" })).toThrow(ConfigError);
    expect(() => new CronTrigger(app, "* * * * *", { timezone: "Mars/Olympus" })).toThrow(/Mars\/Olympus/);
  });
});

describe("RunOnceTrigger", () => {
  it("runs one cycle, then stops the application: run() resolves 0", async () => {
    const app = createApp();
    const { p, source, sink } = cyclePipeline(app, new RunOnceTrigger(app));
    app.pumpService.addPipeline(p);
    const cycleEnds: unknown[] = [];
    p.pubsub.subscribe("bspump.pipeline.cycle_end!", (m) => cycleEnds.push(m));
    expect(await app.run()).toBe(0);
    expect(source.cycles).toBe(1);
    expect(cycleEnds).toHaveLength(1);
    expect(sink.events).toEqual([1]);
    expect(p.running).toBe(false);
  });

  it("waits for the pipeline to be ready before its one cycle", async () => {
    const app = createApp();
    const { p, source } = cyclePipeline(app, new RunOnceTrigger(app));
    app.pumpService.addPipeline(p);
    p.throttle("warming up", true);
    const running = app.run();
    await until(() => source.triggered, "the fire");
    await turns();
    expect(source.cycles).toBe(0);
    p.throttle("warming up", false);
    expect(await running).toBe(0);
    expect(source.cycles).toBe(1);
  });
});

describe("PubSubTrigger", () => {
  it("fires on each publication of its message", async () => {
    const app = createApp();
    const { p, source } = cyclePipeline(app, new PubSubTrigger(app, "go!"));
    await p.start();
    app.pubsub.publish("other!");
    await turns();
    expect(source.cycles).toBe(0);
    for (let n = 1; n <= 3; n++) {
      app.pubsub.publish("go!");
      await until(() => source.cycles === n && !source.triggered, `cycle ${n}`);
    }
    await p.stop();
  });

  it("fires on any of several messages, on the bus given", async () => {
    const app = createApp();
    const bus = new PubSub();
    const trigger = new PubSubTrigger(app, ["a!", "b!"], { pubsub: bus });
    expect(trigger.messageTypes).toEqual(["a!", "b!"]);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    app.pubsub.publish("a!"); // the application's bus is not the one given
    await turns();
    expect(source.cycles).toBe(0);
    bus.publish("a!");
    await until(() => source.cycles === 1 && !source.triggered, "a cycle on a!");
    bus.publish("b!");
    await until(() => source.cycles === 2 && !source.triggered, "a cycle on b!");
    await p.stop();
  });

  it("subscribes only while a source runs", async () => {
    const app = createApp();
    const trigger = new PubSubTrigger(app, ["a!", "b!"]);
    const fire = vi.spyOn(trigger, "fire");
    const { p, source } = cyclePipeline(app, trigger);
    app.pubsub.publish("a!");
    expect(fire).not.toHaveBeenCalled();
    await p.start();
    app.pubsub.publish("b!");
    expect(fire).toHaveBeenCalledTimes(1);
    await until(() => source.cycles === 1 && !source.triggered, "the cycle");
    await p.stop();
    app.pubsub.publish("a!");
    app.pubsub.publish("b!");
    expect(fire).toHaveBeenCalledTimes(1);
    expect(source.triggered).toBe(false);
  });
});

describe("OpportunisticTrigger", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires at start, then not again within the chilldown period, then on the next tick after it", async () => {
    const app = createApp();
    const trigger = new OpportunisticTrigger(app, { chilldownPeriod: 5 });
    const fires = recordFires(trigger);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    const start = Date.now();
    await settle();
    expect(fires).toEqual([start]);
    expect(source.cycles).toBe(1);
    // the cycle ended (it asked to fire again) and ticks come, but all within 5 s of the fire
    for (let s = 1; s <= 4; s++) {
      await vi.advanceTimersByTimeAsync(1_000);
      app.tick();
      await settle();
    }
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(fires).toEqual([start]);
    expect(source.cycles).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    app.tick();
    await settle();
    expect(fires).toHaveLength(2);
    expect(fires[1]! - fires[0]!).toBeGreaterThanOrEqual(5_000);
    expect(source.cycles).toBe(2);
    await stopFake(p);
  });

  it("fires again as soon as a cycle finished, if the chilldown has passed, without waiting for a tick", async () => {
    const app = createApp();
    const trigger = new OpportunisticTrigger(app, { chilldownPeriod: 2 });
    const { p, source } = cyclePipeline(app, trigger);
    source.lastsMs = 3_000;
    await p.start();
    await vi.advanceTimersByTimeAsync(9_500); // no tick is published here: only the end of each cycle can fire again
    expect(source.cycles).toBe(4);
    expect(source.maxActive).toBe(1);
    const gaps = source.beganAt.slice(1).map((ms, i) => ms - source.beganAt[i]!);
    expect(gaps.every((gap) => gap >= 3_000)).toBe(true);
    await stopFake(p);
  });

  it("with runImmediately false, waits for the first tick", async () => {
    const app = createApp();
    const trigger = new OpportunisticTrigger(app, { runImmediately: false });
    expect(trigger.chilldownPeriod).toBe(5);
    const { p, source } = cyclePipeline(app, trigger);
    await p.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(source.cycles).toBe(0);
    app.tick();
    await settle();
    expect(source.cycles).toBe(1);
    await stopFake(p);
  });

  it("does not fire while paused, and fires at once when unpaused", async () => {
    const app = createApp();
    const trigger = new OpportunisticTrigger(app, { chilldownPeriod: 1 });
    const { p, source } = cyclePipeline(app, trigger);
    const pauses: unknown[][] = [];
    p.pubsub.subscribe("bspump.trigger.pause!", (_m, ...args) => pauses.push(args));
    await p.start();
    await settle();
    expect(source.cycles).toBe(1);
    trigger.pause();
    expect(pauses).toEqual([[true, trigger]]);
    await vi.advanceTimersByTimeAsync(5_000);
    app.tick();
    await settle();
    expect(source.cycles).toBe(1);
    trigger.pause(false);
    expect(pauses).toEqual([
      [true, trigger],
      [false, trigger],
    ]);
    expect(source.triggered).toBe(true); // fired at once, not on the next tick
    await settle();
    expect(source.cycles).toBe(2);
    await stopFake(p);
  });

  it("stops listening to ticks when its sources stop", async () => {
    const app = createApp();
    const trigger = new OpportunisticTrigger(app, { chilldownPeriod: 0 });
    const fire = vi.spyOn(trigger, "fire");
    const { p } = cyclePipeline(app, trigger);
    await p.start();
    await settle();
    await stopFake(p);
    const fires = fire.mock.calls.length;
    expect(fires).toBeGreaterThan(0);
    app.tick();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fire).toHaveBeenCalledTimes(fires);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("Trigger.fire()", () => {
  it("with maxTriggered, starts a cycle in at most that many idle sources per fire", async () => {
    const app = createApp();
    const trigger = new Trigger(app, { maxTriggered: 2 });
    const p = new Pipeline(app, "P");
    const gate = Promise.withResolvers<void>();
    const sources = [0, 1, 2, 3, 4].map((i) => {
      const source = new Cycles(app, p, { id: `S${i}` }).on(trigger);
      source.gate = gate;
      return source;
    });
    p.build(sources, new UnitTestSink<number>(app, p));
    await p.start();
    const busy = (): Cycles[] => sources.filter((s) => s.cycles > 0);

    trigger.fire();
    await until(() => busy().length === 2, "two cycles");
    const first = busy();
    trigger.fire();
    await until(() => busy().length === 4, "two more cycles");
    expect(first.every((s) => s.cycles === 1)).toBe(true); // busy ones were not fired again
    trigger.fire();
    await until(() => busy().length === 5, "the last idle source");
    trigger.fire(); // nobody idle
    await turns();
    expect(sources.map((s) => s.cycles)).toEqual([1, 1, 1, 1, 1]);
    expect(sources.map((s) => s.triggered)).toEqual([true, true, true, true, true]);

    gate.resolve();
    await until(() => sources.every((s) => !s.triggered), "all cycles to end");
    await p.stop();
  });

  it("coalesces fires that come during a cycle: no overlap, no queue", async () => {
    const app = createApp();
    const trigger = new Trigger(app);
    const { p, source, sink } = cyclePipeline(app, trigger);
    source.gate = Promise.withResolvers<void>();
    await p.start();
    trigger.fire();
    await until(() => source.cycles === 1, "the first cycle");
    trigger.fire();
    trigger.fire();
    trigger.fire();
    await turns();
    expect(source.cycles).toBe(1);
    source.gate.resolve();
    await until(() => !source.triggered, "the cycle to end");
    await turns();
    expect(source.cycles).toBe(1);
    expect(source.maxActive).toBe(1);
    trigger.fire();
    await until(() => source.cycles === 2 && !source.triggered, "the next cycle");
    expect(sink.events).toEqual([1, 2]);
    await p.stop();
  });

  it("does not fire while paused; pause() tells each source's pipeline", async () => {
    const app = createApp();
    const trigger = new Trigger(app, { id: "T" });
    const { p, source } = cyclePipeline(app, trigger);
    const pauses: unknown[][] = [];
    p.pubsub.subscribe("bspump.trigger.pause!", (_m, ...args) => pauses.push(args));
    await p.start();
    trigger.pause();
    expect(trigger.paused).toBe(true);
    expect(pauses).toEqual([[true, trigger]]);
    trigger.fire();
    await turns();
    expect(source.cycles).toBe(0);
    expect(source.triggered).toBe(false);
    expect(trigger.lastFireAt).toBeUndefined();
    trigger.pause(false);
    expect(pauses).toEqual([
      [true, trigger],
      [false, trigger],
    ]);
    trigger.fire();
    await until(() => source.cycles === 1, "a cycle after unpausing");
    expect(trigger.lastFireAt).toBeGreaterThan(0);
    await p.stop();
  });

  it("does not leave a cycle pending in a source that is not running", async () => {
    const app = createApp();
    const trigger = new PubSubTrigger(app, "go!");
    const a = cyclePipeline(app, trigger, "A");
    const b = cyclePipeline(app, trigger, "B");
    await a.p.start();
    app.pubsub.publish("go!");
    await until(() => a.source.cycles === 1 && !a.source.triggered, "A's cycle");
    expect(b.source.triggered).toBe(false);
    await b.p.start();
    await turns();
    expect(b.source.cycles).toBe(0); // B started after that fire: it waits for the next one
    app.pubsub.publish("go!");
    await until(() => a.source.cycles === 2 && b.source.cycles === 1, "a cycle in each");
    await a.p.stop();
    await b.p.stop();
  });

  it("with maxTriggered, does not spend a fire on a source that is not running", async () => {
    const app = createApp();
    const trigger = new Trigger(app, { maxTriggered: 1 });
    const stopped = cyclePipeline(app, trigger, "Stopped");
    const running = cyclePipeline(app, trigger, "Running");
    await running.p.start();
    // a shuffle that keeps the order, so the not-running source (registered first) would be the pick
    const random = vi.spyOn(Math, "random").mockReturnValue(0.999);
    try {
      trigger.fire();
    } finally {
      random.mockRestore();
    }
    expect(stopped.source.triggered).toBe(false);
    await until(() => running.source.cycles === 1 && !running.source.triggered, "the running source's cycle");
    expect(stopped.source.cycles).toBe(0);
    await running.p.stop();
  });
});

describe("TriggerSource", () => {
  it("publishes cycle_begin! and cycle_end! on its pipeline around each cycle", async () => {
    const app = createApp();
    const trigger = new Trigger(app);
    const { p, source } = cyclePipeline(app, trigger);
    const seen: string[] = [];
    p.pubsub.subscribe("bspump.pipeline.cycle_begin!", (_m, pipeline) => seen.push(`begin ${(pipeline as Pipeline).id}`));
    p.pubsub.subscribe("bspump.pipeline.cycle_end!", (_m, pipeline) => seen.push(`end ${(pipeline as Pipeline).id}`));
    const inner = source.cycle.bind(source);
    source.cycle = async () => {
      seen.push("cycle");
      await inner();
    };
    await p.start();
    trigger.fire();
    await until(() => seen.length === 3, "one cycle");
    trigger.fire();
    await until(() => seen.length === 6, "two cycles");
    expect(seen).toEqual(["begin P", "cycle", "end P", "begin P", "cycle", "end P"]);
    expect(source.restGet()).toMatchObject({ Id: "Cycles", Class: "Cycles", triggered: false });
    await p.stop();
  });

  it("a cycle that throws is a hard pipeline error; after clearError() cycles run again", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const trigger = new Trigger(app);
      const { p, source, sink } = cyclePipeline(app, trigger);
      const ends: unknown[] = [];
      p.pubsub.subscribe("bspump.pipeline.cycle_end!", () => ends.push("end"));
      await p.start();
      const failure = new Error("query failed");
      source.failNext = failure;
      trigger.fire();
      await until(() => p.isError(), "the error");
      expect(p.error?.error).toBe(failure);
      expect(p.error?.componentId).toBe("Cycles");
      expect(p.isReady()).toBe(false);
      await until(() => ends.length === 1, "cycle_end after the failure");
      expect(logs.records.some((r) => r.level === "error" && r.message === "Cycle failed" && r.fields.component === "Cycles")).toBe(true);

      trigger.fire(); // while in error: no cycle
      await turns();
      expect(source.cycles).toBe(1);

      p.clearError();
      await until(() => source.cycles === 2 && !source.triggered, "a cycle after clearing");
      trigger.fire();
      await until(() => source.cycles === 3 && !source.triggered, "the next cycle");
      expect(sink.events).toEqual([2, 3]);
      expect(p.isError()).toBe(false);
      await p.stop();
    } finally {
      logs.restore();
    }
  });

  it("waits for the pipeline to be ready: no cycle while it is throttled", async () => {
    const app = createApp();
    const trigger = new Trigger(app);
    const { p, source } = cyclePipeline(app, trigger);
    p.throttle("full", true);
    await p.start();
    trigger.fire();
    await turns();
    expect(source.cycles).toBe(0);
    p.throttle("full", false);
    await until(() => source.cycles === 1, "the cycle once unthrottled");
    await p.stop();
  });

  it("does not begin a cycle on a fire that comes while the pipeline is throttled", async () => {
    const app = createApp();
    const trigger = new Trigger(app);
    const { p, source } = cyclePipeline(app, trigger);
    const begins: unknown[] = [];
    p.pubsub.subscribe("bspump.pipeline.cycle_begin!", () => begins.push("begin"));
    await p.start();
    await turns(); // the source now waits for a fire
    p.throttle("full", true);
    trigger.fire();
    await turns();
    expect(begins).toEqual([]);
    expect(source.cycles).toBe(0);
    p.throttle("full", false);
    await until(() => source.cycles === 1 && !source.triggered, "the cycle once unthrottled");
    expect(begins).toEqual(["begin"]);
    await p.stop();
  });

  it("a stop during a cycle cancels it (cycle_canceled!) without an error", async () => {
    const app = createApp();
    const trigger = new Trigger(app);
    const p = new Pipeline(app, "P");
    class Sleepy extends TriggerSource<number> {
      async cycle(): Promise<void> {
        await this.sleep(60);
      }
    }
    const source = new Sleepy(app, p).on(trigger);
    p.build(source, new UnitTestSink<number>(app, p));
    const seen: string[] = [];
    for (const m of ["cycle_begin!", "cycle_end!", "cycle_canceled!"]) p.pubsub.subscribe(`bspump.pipeline.${m}`, () => seen.push(m));
    await p.start();
    trigger.fire();
    await until(() => seen.length === 1, "the cycle to begin");
    await p.stop();
    expect(seen).toEqual(["cycle_begin!", "cycle_canceled!"]);
    expect(p.isError()).toBe(false);
    expect(source.running).toBe(false);
    expect(trigger.armed).toBe(false);
  });

  it("on() while running arms the trigger at once; on() returns the source", async () => {
    const app = createApp();
    const first = new Trigger(app, { id: "first" });
    const { p, source } = cyclePipeline(app, first);
    await p.start();
    const late = new Trigger(app, { id: "late" });
    expect(source.on(late)).toBe(source);
    expect(late.armed).toBe(true);
    expect([...source.triggers].map((t) => t.id)).toEqual(["first", "late"]);
    late.fire();
    await until(() => source.cycles === 1, "a cycle from the late trigger");
    await p.stop();
    expect(first.armed).toBe(false);
    expect(late.armed).toBe(false);
  });
});

describe("Source lifecycle", () => {
  class Looping extends Source<number> {
    n = 0;
    async main(): Promise<void> {
      while (true) {
        await this.pipeline.ready();
        await this.process(++this.n);
        await this.sleep(60);
      }
    }
  }

  it("stop() ends a `while (true) { ready; process; sleep }` main cleanly", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const p = new Pipeline(app, "P");
      const source = new Looping(app, p);
      const sink = new UnitTestSink<number>(app, p);
      p.build(source, sink);
      await p.start();
      await until(() => sink.events.length === 1, "the first event");
      expect(source.running).toBe(true);
      expect(await source.stop()).toBe(true);
      expect(source.running).toBe(false);
      expect(p.isError()).toBe(false);
      expect(sink.events).toEqual([1]);
      expect(logs.records.filter((r) => r.level === "error" || r.level === "warn")).toEqual([]);
      await p.stop();
    } finally {
      logs.restore();
    }
  });

  it("sleep() rejects with StoppedError once stopped", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    let caught: unknown;
    class Sleeper extends Source {
      async main(): Promise<void> {
        try {
          await this.sleep(60);
        } catch (error) {
          caught = error;
          throw error;
        }
      }
    }
    const source = new Sleeper(app, p);
    p.build(source, new UnitTestSink(app, p));
    await p.start();
    expect(await source.stop()).toBe(true);
    expect(caught).toBeInstanceOf(StoppedError);
    expect(source.signal.aborted).toBe(true);
    expect(p.isError()).toBe(false);
    await p.stop();
  });

  it("a main() that throws sets a hard error naming the source, and clearError() restarts it", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const p = new Pipeline(app, "P");
      class Flaky extends Source {
        runs = 0;
        async main(): Promise<void> {
          this.runs++;
          if (this.runs === 1) throw new Error("connection refused");
          await this.stopped();
        }
      }
      const source = new Flaky(app, p, { id: "Flaky" });
      p.build(source, new UnitTestSink(app, p));
      await p.start();
      await until(() => p.isError(), "the error");
      expect(p.error?.componentId).toBe("Flaky");
      expect(p.error?.error).toHaveProperty("message", "connection refused");
      expect(source.running).toBe(false);
      expect(logs.records.some((r) => r.level === "error" && r.message === "Source failed" && r.fields.component === "Flaky")).toBe(true);

      p.clearError();
      await until(() => source.runs === 2, "the restart");
      expect(source.running).toBe(true);
      expect(p.isError()).toBe(false);
      expect(p.isReady()).toBe(true);
      await p.stop();
      expect(source.running).toBe(false);
    } finally {
      logs.restore();
    }
  });

  it("stopped() resolves when the source is stopped", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    class Holder extends Source {
      released = false;
      async main(): Promise<void> {
        await this.stopped();
        this.released = true;
      }
    }
    const source = new Holder(app, p);
    p.build(source, new UnitTestSink(app, p));
    await p.start();
    await turns();
    expect(source.released).toBe(false);
    expect(await source.stop()).toBe(true);
    expect(source.released).toBe(true);
    await expect(source.stopped()).resolves.toBeUndefined(); // already stopped: at once
    await p.stop();
  });

  it("stop() resolves false after its timeout when main() ignores the stop", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const p = new Pipeline(app, "P");
      class Stubborn extends Source {
        async main(): Promise<void> {
          await new Promise(() => {});
        }
      }
      const source = new Stubborn(app, p);
      p.build(source, new UnitTestSink(app, p));
      await p.start();
      expect(await source.stop(0.02)).toBe(false);
      expect(logs.records.some((r) => r.level === "warn" && r.message === "Source refused to stop" && r.fields.timeout === 0.02)).toBe(true);
      expect(source.running).toBe(false);
    } finally {
      logs.restore();
    }
  });

  it("a source that refused to stop can be started again once its main() ended", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const p = new Pipeline(app, "P");
      class Slow extends Source {
        runs = 0;
        release = Promise.withResolvers<void>();
        ended = false;
        async main(): Promise<void> {
          this.runs++;
          if (this.runs === 1) {
            await this.release.promise; // a request that does not take the signal
            this.ended = true;
            return;
          }
          await this.stopped();
        }
      }
      const source = new Slow(app, p);
      p.build(source, new UnitTestSink(app, p));
      await p.start();
      expect(await source.stop(0.01)).toBe(false);
      source.release.resolve();
      await until(() => source.ended, "the first main() to end");
      source.start(); // what the pipeline's start() does
      await until(() => source.runs === 2, "main() to run again");
      expect(source.running).toBe(true);
      await p.stop();
      expect(source.running).toBe(false);
    } finally {
      logs.restore();
    }
  });

  it("can be started again after a stop", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const source = new Looping(app, p);
    const sink = new UnitTestSink<number>(app, p);
    p.build(source, sink);
    await p.start();
    await until(() => sink.events.length === 1, "the first event");
    await p.stop();
    await p.start();
    await until(() => sink.events.length === 2, "an event after the restart");
    expect(source.running).toBe(true);
    await p.stop();
    expect(sink.events).toEqual([1, 2]);
  });
});

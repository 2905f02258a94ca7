import { DELIVERY, Delivery, Pipeline, Processor, PumpApplication, Sink, type Context } from "@pump/core";
import { UnitTestSource } from "@pump/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { DashboardFeed, FRAME_VERSION, encodeFrame, type DashboardFrame } from "../src/index.js";
import { HOSTILE, createPump, until, type TestPump } from "./pump.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
});

async function started(): Promise<TestPump> {
  const pump = createPump();
  await pump.app.pumpService.initialize();
  cleanups.push(() => pump.app.pumpService.finalize());
  return pump;
}

/** Drops odd numbers, so a test sees in, out and dropped apart. */
class DropOdd extends Processor<number, number> {
  process(_context: Context, n: number): number | null {
    return n % 2 === 1 ? null : n;
  }
}
class Count extends Sink<number> {
  process(): void {}
}

describe("DashboardFeed frames", () => {
  it("show every pipeline as its chain, the route between them, lookups, connections and the pump", async () => {
    const pump = await started();
    const feed = new DashboardFeed(pump.app);
    cleanups.push(() => feed.close());
    await until(() => pump.sink.delivered + pump.sink.buffered > 0);
    const frame = feed.snapshot();

    expect(frame.v).toBe(FRAME_VERSION);
    expect(frame.full).toBe(true);
    expect(JSON.parse(JSON.stringify(frame))).toEqual(frame); // plain JSON, nothing lost on the wire
    expect(frame.pump).toMatchObject({ name: "PumpApplication", pid: process.pid, tokenRequired: false, historySeconds: 300 });
    expect(frame.pump.coreVersion).toBe(PumpApplication.VERSION);

    expect(frame.pipelines.map((p) => p.id)).toEqual(["Orders", "Shipping"]);
    const [orders, shipping] = frame.pipelines as [DashboardFrame["pipelines"][0], DashboardFrame["pipelines"][0]];
    expect(orders).toMatchObject({ class: "Pipeline", error: null });
    expect(["ready", "throttled"]).toContain(orders.state);
    expect(orders.sources).toEqual([{ id: "OrdersSource", class: "OrdersSource", feeders: [] }]);
    expect(orders.depths).toEqual([
      [
        { id: "Validate", class: "Validate", kind: "processor", runs: expect.any(Number), seconds: expect.any(Number) },
        { id: "ToShipping", class: "ToShipping", kind: "sink", runs: expect.any(Number), seconds: expect.any(Number) },
      ],
    ]);
    expect(orders.depths[0]![0]!.runs).toBeGreaterThan(0);
    expect(orders.counters.in).toBeGreaterThan(0);
    expect(Object.keys(orders.counters).toSorted()).toEqual(["drop", "error", "in", "out", "routedErrors", "warning"]);
    expect(shipping.sources).toEqual([{ id: "InternalSource", class: "InternalSource", feeders: ["Orders"], queue: expect.any(Number), backPressure: expect.any(Boolean) }]);
    expect(shipping.depths[0]!.map((p) => [p.id, p.kind])).toEqual([
      ["Enrich", "processor"],
      ["SlowSink", "sink"],
    ]);
    expect(shipping.delivery).toMatchObject({ queued: expect.any(Number), pending: 0, routedErrors: 0, hardErrors: 0 });
    expect(shipping.delivery.inFlight).toBe(Math.max(0, shipping.counters.in - shipping.counters.out - shipping.counters.drop));

    expect(frame.edges).toEqual([{ from: "Orders", to: "Shipping", kind: "route", via: "InternalSource" }]);
    expect(frame.lookups).toEqual([{ id: "Carriers", class: "DictionaryLookup", loaded: true, size: 3, updatedAt: expect.any(Number), changedAt: expect.any(Number), master: null }]);
    expect(frame.connections).toEqual([{ id: "WarehouseConnection", class: "WarehouseConnection", details: { State: "connected", Reconnects: "0" } }]);
    expect(Object.keys(frame.history!)).toEqual(["Orders", "Shipping"]);
  });

  it("show links between pipelines (link()) as edges of their own, and a generator's pipeline without an in-flight count", () => {
    const app = new PumpApplication({ args: [] });
    const upstream = new Pipeline(app, "Upstream");
    upstream.build(new UnitTestSource(app, upstream), new Count(app, upstream));
    const downstream = new Pipeline(app, "Downstream");
    downstream.build(new UnitTestSource(app, downstream), new Count(app, downstream));
    downstream.link(upstream);
    app.pumpService.addPipelines(upstream, downstream);
    const frame = new DashboardFeed(app).snapshot();
    expect(frame.edges).toEqual([{ from: "Upstream", to: "Downstream", kind: "link", via: null }]);
    expect(frame.pipelines.map((p) => p.state)).toEqual(["stopped", "stopped"]);
  });

  it("compute rates per second between samples, and keep history for historySeconds only", async () => {
    let now = 1_000_000;
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "Numbers");
    pipeline.build(new UnitTestSource<number>(app, pipeline), new DropOdd(app, pipeline), new Count(app, pipeline));
    app.pumpService.addPipeline(pipeline);
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    const feed = new DashboardFeed(app, { now: () => now, historySeconds: 10 });

    feed.snapshot(); // starts following the pipeline at t = 0
    await pipeline.processBatch(Array.from({ length: 50 }, (_, i) => i));
    now += 2000;
    let frame = feed.sample();
    expect(frame.point).toBe(true);
    expect(frame.full).toBe(false);
    expect(frame.history).toBeUndefined();
    expect(frame.pipelines[0]!.rates).toEqual({ in: 25, out: 12.5, drop: 12.5 });
    expect(frame.pipelines[0]!.counters).toMatchObject({ in: 50, out: 25, drop: 25 });

    await pipeline.processBatch([2, 4, 6]);
    now += 500;
    expect(feed.sample().pipelines[0]!.rates).toEqual({ in: 6, out: 6, drop: 0 });

    for (let i = 0; i < 20; i++) {
      now += 1000;
      frame = feed.sample();
    }
    expect(frame.pipelines[0]!.rates).toEqual({ in: 0, out: 0, drop: 0 });
    const history = feed.snapshot().history!.Numbers!;
    // samples of the last 10 s: t = now - 10 s ... now
    expect(history.t).toEqual(Array.from({ length: 11 }, (_, i) => now - 10_000 + i * 1000));
    expect(history.in).toEqual(Array(11).fill(0));
    expect(feed.seq).toBe(22);
  });

  it("tell throttled from ready and name who holds a pipeline", async () => {
    const pump = await started();
    const feed = new DashboardFeed(pump.app);
    cleanups.push(() => feed.close());
    feed.snapshot();
    pump.sink.stall();
    await until(() => !pump.shipping.isReady() && !pump.orders.isReady());
    const frame = feed.snapshot();
    const [orders, shipping] = frame.pipelines;
    expect(shipping!.state).toBe("throttled");
    expect(shipping!.throttles).toContainEqual({ id: "Shipping.SlowSink", kind: "processor" });
    expect(shipping!.notReady.since).toEqual(expect.any(Number));
    expect(orders!.state).toBe("throttled");
    // the router makes Orders wait for Shipping (and for its queue once that fills)
    expect(orders!.throttles).toContainEqual({ id: "Shipping", kind: "pipeline" });
    expect(orders!.notReady.count).toBeGreaterThan(0);

    pump.sink.resume();
    await until(() => pump.shipping.isReady() && pump.orders.isReady());
    const after = feed.snapshot().pipelines;
    expect(after.map((p) => p.state)).toEqual(["ready", "ready"]);
    expect(after[1]!.throttles).toEqual([]);
    expect(after[1]!.notReady.since).toBeNull();
  });

  it("show a hard error in full — component, reason, the event and its context as text — until it is cleared", async () => {
    const pump = await started();
    const feed = new DashboardFeed(pump.app);
    cleanups.push(() => feed.close());
    pump.source.poison = { event: { id: 666, note: HOSTILE }, context: { customer: HOSTILE, [DELIVERY]: new Delivery(() => {}, 666) } };
    await until(() => pump.orders.isError());
    const orders = feed.snapshot().pipelines[0]!;
    expect(orders.state).toBe("error");
    expect(orders.error).toMatchObject({ component: "Validate", name: "ValidationError", code: "ORDER_INVALID", message: `order 666 has an unknown note: ${HOSTILE}` });
    expect(orders.error!.at).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.parse(orders.error!.event)).toEqual({ id: 666, note: HOSTILE });
    expect(JSON.parse(orders.error!.context)).toEqual({ customer: HOSTILE });
    expect(orders.error!.stack).toContain("ValidationError");
    expect(orders.log.at(-1)).toMatchObject({ level: "error", message: "Pipeline stopped by an error", component: "Validate" });
    expect(orders.counters.error).toBe(1);

    pump.orders.clearError();
    const cleared = feed.snapshot().pipelines[0]!;
    expect(cleared.error).toBeNull();
    const before = cleared.counters.in;
    await until(() => pump.orders.metrics.in > before); // and the pipeline goes on
  });

  it("hide the event and its context when eventPreviewChars is 0", async () => {
    const pump = await started();
    const feed = new DashboardFeed(pump.app, { eventPreviewChars: 0 });
    cleanups.push(() => feed.close());
    pump.source.poison = { event: { id: 7, note: "secret" }, context: { card: "4111" } };
    await until(() => pump.orders.isError());
    const error = feed.snapshot().pipelines[0]!.error!;
    expect(error.event).not.toContain("secret");
    expect(error.context).not.toContain("4111");
    pump.orders.clearError();
  });
});

/** A client of the feed without a socket: frames parsed; `accept` says whether its socket takes more. */
function client(feed: DashboardFeed, accept: () => boolean = () => true) {
  const frames: DashboardFrame[] = [];
  let closed = false;
  const handle = feed.attach(
    (text) => {
      expect(text).toMatch(/^id: \d+\nevent: frame\ndata: [^\n]+\n\n$/);
      frames.push(JSON.parse(text.slice(text.indexOf("data: ") + 6)) as DashboardFrame);
      return accept();
    },
    () => (closed = true),
  );
  return { frames, handle, closed: () => closed };
}

describe("DashboardFeed clients", () => {
  it("get a full frame when they connect, then one frame per sample", () => {
    const app = new PumpApplication({ args: [] });
    let now = 0;
    const feed = new DashboardFeed(app, { now: () => now });
    const a = client(feed);
    expect(a.frames).toHaveLength(1);
    expect(a.frames[0]).toMatchObject({ full: true, point: false, history: {} });
    now += 1000;
    feed.sample();
    now += 1000;
    feed.sample();
    expect(a.frames.map((f) => [f.seq, f.full, f.point])).toEqual([
      [0, true, false],
      [1, false, true],
      [2, false, true],
    ]);
    expect(feed.clients).toBe(1);
    a.handle.detach();
    expect(feed.clients).toBe(0);
    feed.sample();
    expect(a.frames).toHaveLength(3);
  });

  it("a client that disconnects and reconnects starts again from a full frame with the history so far", () => {
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "P");
    pipeline.build(new UnitTestSource(app, pipeline), new Count(app, pipeline));
    app.pumpService.addPipeline(pipeline);
    let now = 0;
    const feed = new DashboardFeed(app, { now: () => now });
    const first = client(feed);
    for (let i = 0; i < 3; i++) {
      now += 1000;
      feed.sample();
    }
    first.handle.detach();
    now += 1000;
    feed.sample();
    const again = client(feed);
    expect(again.frames[0]).toMatchObject({ full: true, seq: 4 });
    expect(again.frames[0]!.history!.P!.t).toEqual([1000, 2000, 3000, 4000]);
    now += 1000;
    feed.sample();
    expect(again.frames[1]).toMatchObject({ full: false, point: true, seq: 5 });
  });

  it("a client whose socket is full misses frames, then gets a full one; one blocked for a minute is dropped", () => {
    const app = new PumpApplication({ args: [] });
    let now = 0;
    const feed = new DashboardFeed(app, { now: () => now });
    let accepting = false;
    const slow = client(feed, () => accepting);
    const fast = client(feed);
    now += 1000;
    feed.sample();
    now += 1000;
    feed.sample();
    expect(slow.frames).toHaveLength(1); // the first frame filled its socket
    expect(fast.frames).toHaveLength(3);
    accepting = true;
    slow.handle.drained();
    now += 1000;
    feed.sample();
    expect(slow.frames.at(-1)).toMatchObject({ full: true, seq: 3 });
    expect(fast.frames.at(-1)).toMatchObject({ full: false, seq: 3 });

    accepting = false;
    now += 1000;
    feed.sample(); // fills it again
    now += 61_000;
    feed.sample();
    expect(slow.closed()).toBe(true);
    expect(fast.closed()).toBe(false);
    expect(feed.clients).toBe(1);
  });

  it("push a frame at once (without a sample) when a hard error appears or is cleared", async () => {
    const pump = await started();
    const feed = new DashboardFeed(pump.app);
    cleanups.push(() => feed.close());
    const a = client(feed);
    pump.source.poison = { event: { id: 1, note: "cake" }, context: {} };
    await until(() => a.frames.some((f) => f.pipelines[0]!.state === "error"));
    const pushed = a.frames.find((f) => f.pipelines[0]!.state === "error")!;
    expect(pushed).toMatchObject({ full: false, point: false });
    pump.orders.clearError();
    await until(() => a.frames.at(-1)!.pipelines[0]!.error === null);
  });

  it("encodeFrame writes one Server-Sent Event whose data is one line, whatever the event holds", () => {
    const app = new PumpApplication({ args: [] });
    const frame = new DashboardFeed(app).snapshot();
    frame.pump.name = "line\nbreak\r\nand\u2028more";
    const text = encodeFrame(frame);
    expect(text.split("\n\n")).toEqual([expect.any(String), ""]);
    expect(text.split("\n").filter((line) => line.startsWith("data: "))).toHaveLength(1);
    expect(text).not.toMatch(/\r/);
  });
});

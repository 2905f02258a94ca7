import { Pipeline, Source } from "@pump/core";
import { influxSettings } from "@pump/test-servers";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { InfluxDBConnection, InfluxDBDeliveryError, InfluxDBPointError, InfluxDBSink, type InfluxEvent } from "../../src/index.js";
import { createApp, UnitTestSource, InfluxQL, runApp, settlements, TcpProxy, unique, until } from "../helpers.js";

/** A pipeline whose errors are soft (dropped and counted) and kept for the test. */
class Lenient extends Pipeline {
  readonly errors: unknown[] = [];
  override handleError(error: unknown): boolean {
    this.errors.push(error);
    return true;
  }
}

/** Produces `total` points in batches of 100, as fast as the pipeline lets it. */
class Points extends Source<InfluxEvent> {
  measurement = "";
  total = 0;
  produced = 0;

  async main(): Promise<void> {
    while (this.produced < this.total) {
      await this.pipeline.ready();
      const n = Math.min(100, this.total - this.produced);
      const first = this.produced;
      await this.processBatch(Array.from({ length: n }, (_, k) => ({ measurement: this.measurement, tags: { k: String((first + k) % 10) }, fields: { n: first + k }, time: BigInt(first + k) })));
      this.produced += n;
    }
    await this.stopped();
  }
}

describeWithServer("InfluxDBSink against InfluxDB", "INFLUX_URL", (url) => {
  const { bucket, org, token } = influxSettings();
  const influx = new InfluxQL(url, bucket);
  const measurements: string[] = [];
  const measurement = (prefix: string): string => {
    const name = unique(prefix);
    measurements.push(name);
    return name;
  };
  const conf = (at = url, extra = ""): string => `[connection:InfluxDBConnection]\nurl=${at}\nbucket=${bucket}\norg=${org}\ntoken=${token}\n${extra}`;
  afterAll(() => influx.drop(...measurements));

  function pump(config: Record<string, string | number> = {}, options: { at?: string; extra?: string; lenient?: boolean } = {}) {
    const app = createApp(conf(options.at, options.extra));
    app.pumpService.addConnection(new InfluxDBConnection(app, "InfluxDBConnection"));
    const pipeline = options.lenient === true ? new Lenient(app, "Write") : new Pipeline(app, "Write");
    const feed = new UnitTestSource<InfluxEvent>(app, pipeline);
    const sink = new InfluxDBSink(app, pipeline, "InfluxDBConnection", { config });
    pipeline.build(feed, sink);
    app.pumpService.addPipeline(pipeline);
    return { app, pipeline, feed, sink, run: runApp(app) };
  }

  it("writes points, BSPump tuples and line protocol, confirming each event once written; reads them back as sent", async () => {
    const m = measurement("rt");
    const { feed, sink, run } = pump({ integer_fields: "count" });
    await run.started;
    const { settled, context } = settlements();
    const t0 = 1_700_000_000; // seconds
    const events: InfluxEvent[] = [
      { measurement: m, tags: { host: "a b", "reg,ion": "eu=1" }, fields: { value: 1.5, count: 3, ok: true, note: 'say "hi"\\' }, time: new Date(t0 * 1000) },
      { measurement: m, tags: { host: "b" }, fields: { value: -2, big: 9007199254740993n }, time: t0 + 1.25 },
      { measurement: m, tags: { host: "c" }, fields: { value: 3 }, time: `${(t0 + 2) * 1e9}` },
      { measurement: m, tags: { host: "d" }, fields: { value: 4 }, time: "2023-11-14T22:13:23Z" },
      [m, "host=e", "value=5", t0 + 4],
      `${m},host=f value=6 ${(t0 + 5) * 1e9}`,
      Buffer.from(`${m},host=g value=7 ${(t0 + 6) * 1e9}\n${m},host=h value=8 ${(t0 + 7) * 1e9}\n`),
      `${m},host=now value=9`,
    ];
    await feed.feed(events, events.map((_, n) => context(n)));
    await until(() => settled.size === events.length, "every event confirmed");
    expect([...settled.values()].every((s) => s === "done")).toBe(true);
    expect(await run.stop()).toBe(0);
    expect(sink.stats).toMatchObject({ delivered: 8, lines: 9, rejected: 0, failed: 0 });

    const rows = await influx.rows(m);
    expect(rows).toHaveLength(9);
    const byHost = new Map(rows.map((r) => [r.host, r]));
    expect(byHost.get("a b")).toMatchObject({ time: t0 * 1e9, "reg,ion": "eu=1", value: 1.5, count: 3, ok: true, note: 'say "hi"\\' });
    expect(byHost.get("b")).toMatchObject({ time: (t0 + 1.25) * 1e9, value: -2 });
    expect(byHost.get("c")!.time).toBe((t0 + 2) * 1e9);
    expect(byHost.get("d")!.time).toBe(Date.parse("2023-11-14T22:13:23Z") * 1e6);
    for (const [host, n] of [["e", 4], ["f", 5], ["g", 6], ["h", 7]] as const) expect(byHost.get(host)).toMatchObject({ time: (t0 + n) * 1e9, value: n + 1 });
    // A point without a time got the sink's: now, not 1970.
    expect(Number(byHost.get("now")!.time)).toBeGreaterThan(t0 * 1e9);
    // Integers stay integers: InfluxQL tells the field types.
    const types = await influx.query(`SHOW FIELD KEYS FROM "${m}"`);
    expect(Object.fromEntries(types[0]!.values as [string, string][])).toMatchObject({ value: "float", count: "integer", big: "integer", ok: "boolean", note: "string" });
  });

  it("writes more points than a batch in several requests, all read back", async () => {
    const m = measurement("many");
    const { feed, sink, run } = pump({ batch_size: 1000 });
    await run.started;
    const N = 12_345;
    const events = Array.from({ length: N }, (_, n) => ({ measurement: m, tags: { k: String(n % 7) }, fields: { n }, time: BigInt(n) }));
    await feed.feed(events);
    await until(() => sink.stats.delivered === N, "every point written");
    expect(await run.stop()).toBe(0);
    expect(sink.stats.batches).toBeGreaterThanOrEqual(13);
    const [series] = await influx.query(`SELECT COUNT(n), SUM(n) FROM "${m}"`);
    expect(series!.values[0]!.slice(1)).toEqual([N, (N * (N - 1)) / 2]);
  });

  it("points the server refuses (a field type conflict, a line it cannot parse) are reported alone with the reason; the rest is stored", async () => {
    const m = measurement("bad");
    const { pipeline, feed, sink, run } = pump({ batch_size: 500 }, { lenient: true });
    await run.started;
    const N = 300;
    const events: InfluxEvent[] = Array.from({ length: N }, (_, n) => ({ measurement: m, tags: { n: String(n) }, fields: { v: n }, time: BigInt(n + 1) }));
    events[42] = { measurement: m, tags: { n: "42" }, fields: { v: "text" }, time: 43n }; // v is a float field
    events[200] = `${m},n=200 v= 201`; // no value
    const { settled, context } = settlements();
    await feed.feed(events, events.map((_, n) => context(n)));
    await until(() => settled.size === N, "every event settled");
    expect(await run.stop()).toBe(0);
    const errors = (pipeline as Lenient).errors as InfluxDBPointError[];
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toBeInstanceOf(InfluxDBPointError);
    const [conflict, unparsable] = errors.toSorted((a, b) => a.lines[0]!.length - b.lines[0]!.length).toReversed();
    expect(conflict!.reason).toMatch(/field type conflict/);
    expect(conflict!.lines).toEqual([`${m},n=42 v="text" 43`]);
    expect(unparsable!.reason).toMatch(/unable to parse/);
    expect(unparsable!.lines).toEqual([`${m},n=200 v= 201`]);
    expect(sink.stats).toMatchObject({ delivered: N - 2, rejected: 2, isolated: 1 });
    expect([...settled.values()].every((s) => s === "done")).toBe(true); // soft errors confirm the dropped events
    const stored = (await influx.rows(m)).map((r) => Number(r.n)).toSorted((a, b) => a - b);
    expect(stored).toEqual(Array.from({ length: N }, (_, n) => n).filter((n) => n !== 42 && n !== 200));
  });

  it("with the default (hard) error handling a refused point stops the pipeline and fails its delivery; the others are confirmed", async () => {
    const m = measurement("hard");
    const { pipeline, feed, run } = pump();
    await run.started;
    const { settled, context } = settlements();
    await feed.feed([`${m} v=1 1`, `${m} v="x" 2`, `${m} v=3 3`], [context(0), context(1), context(2)]);
    await until(() => settled.size === 3, "every event settled");
    expect(pipeline.isError()).toBe(true);
    expect(pipeline.error?.error).toBeInstanceOf(InfluxDBPointError);
    expect([settled.get(0), settled.get(2)]).toEqual(["done", "done"]);
    expect(settled.get(1)).toBeInstanceOf(InfluxDBPointError);
    expect(await run.stop()).toBe(0);
    expect((await influx.rows(m)).map((r) => r.v)).toEqual([1, 3]);
  });

  it("a refusal that is not about the points (no such database, not retried) fails the batch's events through the error handling", async () => {
    const { pipeline, feed, sink, run } = pump({}, { extra: `bucket=${unique("nodb")}\nresponse_codes_to_retry=503\n`, lenient: true });
    await run.started;
    await feed.feed([{ measurement: "x", fields: { v: 1 } }, { measurement: "x", fields: { v: 2 } }]);
    await until(() => (pipeline as Lenient).errors.length === 2, "both events failed");
    expect(await run.stop()).toBe(0);
    const [error] = (pipeline as Lenient).errors as InfluxDBDeliveryError[];
    expect(error).toBeInstanceOf(InfluxDBDeliveryError);
    expect(error!.message).toMatch(/404|database not found/);
    expect(sink.stats).toMatchObject({ failed: 2, delivered: 0 });
  });

  it("a server refusing connections at start: events wait and are retried, confirmed only once written", async () => {
    const m = measurement("late");
    const { proxy, url: viaProxy } = await TcpProxy.to(url, 8086);
    const { feed, sink, run } = pump({ flush_interval: 0.05, retry_delay: 0.05, retry_delay_max: 0.2 }, { at: viaProxy });
    const { settled, context } = settlements();
    try {
      await run.started;
      const events = Array.from({ length: 200 }, (_, n) => ({ measurement: m, fields: { n }, time: BigInt(n) }));
      await feed.feed(events, events.map((_, n) => context(n)));
      await until(() => sink.stats.retries >= 3, "three refused attempts");
      expect(settled.size).toBe(0);
      await proxy.open();
      await until(() => settled.size === 200, "every event written");
      expect(await run.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
    expect([...settled.values()].every((s) => s === "done")).toBe(true);
    expect(await influx.count(m)).toBe(200);
  });

  it("throttles a fast source at its high watermark (the sink holds a bounded number of events), and writes everything", async () => {
    const m = measurement("burst");
    const app = createApp(conf());
    app.pumpService.addConnection(new InfluxDBConnection(app, "InfluxDBConnection"));
    const pipeline = new Pipeline(app, "Burst");
    const source = new Points(app, pipeline);
    source.measurement = m;
    source.total = 30_000;
    const sink = new InfluxDBSink(app, pipeline, "InfluxDBConnection", { config: { batch_size: 500, "watermark.high": 1000, "watermark.low": 500 } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    await until(() => sink.stats.delivered === 30_000, "every point written", 6000);
    expect(await run.stop()).toBe(0);
    expect(sink.stats.throttled).toBeGreaterThan(1);
    // One batch of the source may land on top of the high watermark before the throttle takes effect.
    expect(sink.stats.maxBuffered).toBeLessThanOrEqual(1000 + 100);
    expect(await influx.count(m)).toBe(30_000);
  });
});

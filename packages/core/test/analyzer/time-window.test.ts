import { describe, expect, it } from "vitest";
import { ConfigError, DuplicateError, Pipeline, UsageError, type Context, type PumpApplication } from "../../src/index.js";
import { SessionMatrix, TimeWindowAnalyzer, TimeWindowMatrix, addMatrix, locateMatrix } from "../../src/analyzer/index.js";
import { ProcessorTestCase } from "../../src/testing/index.js";
import { createApp } from "../helpers.js";
import { clockOf } from "../lookup/support.js";

const NOW = 1_700_000_000; // a whole number of seconds, as BSPump's tests take int(time.time())

function clockedApp(now = NOW): { app: PumpApplication; clock: { now: number } } {
  const app = createApp();
  return { app, clock: clockOf(app, now) };
}

describe("TimeWindowMatrix (BSPump's test_time_window_matrix vectors)", () => {
  it("has one free row of 15 columns to begin with", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { clockDriven: false });
    expect([matrix.capacity, matrix.columns]).toEqual([1, 15]);
    expect(matrix.array).toHaveLength(15);
    expect(matrix.array).toBeInstanceOf(Float64Array);
  });

  it("add_column shifts the window by one slot: start and end move, the row warms up, cells move left, a cleared cell comes in", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { columns: 3 });
    const { start, end } = matrix;
    const row = matrix.addRow("abc");
    const warmingUp = matrix.warmingUpCount(row);
    matrix.set(row, 0, 4);
    matrix.set(row, 1, 5);
    matrix.set(row, 2, 6);
    matrix.addColumn();
    expect(matrix.start).toBe(start + matrix.resolution);
    expect(matrix.end).toBe(end + matrix.resolution);
    expect(matrix.warmingUpCount(row)).toBe(warmingUp - 1);
    expect([...matrix.rowView(row)]).toEqual([5, 6, 0]);
    expect(matrix.columns).toBe(3);
  });

  it("add_row gives the row a warming-up count of the number of columns", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { columns: 3 });
    expect(matrix.warmingUpCount(matrix.addRow("abc"))).toBe(3);
  });

  it("get_column: a timestamp i seconds back (+0.5) is in column columns-i-1", () => {
    const { app } = clockedApp();
    const columns = 10;
    const matrix = new TimeWindowMatrix(app, { resolution: 1, columns });
    for (let i = 0; i < columns; i++) expect(matrix.getColumn(NOW - i + 0.5)).toBe(columns - i - 1);
  });

  it("advance adds columns until start is more than a quarter slot ahead", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { startTime: NOW, resolution: 1, columns: 10 });
    matrix.addRow("abc");
    expect(matrix.advance(matrix.start)).toBeGreaterThan(0);
    expect(matrix.advance(matrix.start + matrix.resolution)).toBeGreaterThan(0);
    expect(matrix.advance(matrix.start - matrix.resolution)).toBe(0);
    expect(matrix.advance(matrix.start - 0.5 * matrix.resolution)).toBe(0);
    expect(matrix.advance(matrix.start + 0.5 * matrix.resolution)).toBeGreaterThan(0);
  });
});

describe("TimeWindowMatrix", () => {
  it("starts at the first slot boundary after the start time; end is columns slots before", () => {
    const { app } = clockedApp(NOW + 30);
    const matrix = new TimeWindowMatrix(app, { resolution: 60, columns: 15 });
    expect(matrix.start).toBe((Math.floor((NOW + 30) / 60) + 1) * 60);
    expect(matrix.end).toBe(matrix.start - 15 * 60);
    expect(new TimeWindowMatrix(app, { startTime: 120, resolution: 60, columns: 2 }).start).toBe(180);
  });

  it("counts timestamps outside the window as late (at or before end) or early (at or after start)", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { startTime: 600, resolution: 60, columns: 5 }); // (360, 660)
    expect([matrix.end, matrix.start]).toEqual([360, 660]);
    expect(matrix.getColumn(360)).toBeUndefined();
    expect(matrix.getColumn(360.001)).toBe(0);
    expect(matrix.getColumn(659.999)).toBe(4);
    expect(matrix.getColumn(660)).toBeUndefined();
    expect(matrix.getColumn(10)).toBeUndefined();
    expect(matrix.counters).toEqual({ early: 1, late: 2 });
    expect(matrix.getColumn(Number.NaN)).toBeUndefined();
    expect(matrix.counters).toEqual({ early: 1, late: 2 });
  });

  it("advance returns how many slots it moved; the 75 % rule: a quarter slot before start already shifts", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { startTime: 600, resolution: 60, columns: 5 }); // start 660
    expect(matrix.advance(644)).toBe(0); // (660 - 644) / 60 > 0.25
    expect(matrix.start).toBe(660);
    expect(matrix.advance(645)).toBe(1); // (660 - 645) / 60 = 0.25
    expect(matrix.start).toBe(720);
    expect(matrix.advance(800)).toBe(2); // to 840: (840 - 800) / 60 > 0.25
    expect([matrix.end, matrix.start]).toEqual([540, 840]);
  });

  it("a jump over the whole window clears it at once and moves by the slots passed", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { startTime: 600, resolution: 60, columns: 5 });
    const row = matrix.addRow("a");
    matrix.rowView(row).fill(9);
    expect(matrix.advance(600 + 3600)).toBe(60);
    expect(matrix.start).toBe(660 + 60 * 60);
    expect([...matrix.rowView(row)]).toEqual([0, 0, 0, 0, 0]);
    expect(matrix.warmingUpCount(row)).toBe(0);
  });

  it("warming up counts down with each shift, never below 0; a new row starts over", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { columns: 3, config: { max_closed_rows_capacity: 1 } });
    const a = matrix.addRow("a");
    matrix.addColumn();
    const b = matrix.addRow("b");
    matrix.addColumn();
    expect([matrix.warmingUpCount(a), matrix.warmingUpCount(b)]).toEqual([1, 2]);
    matrix.addColumn();
    matrix.addColumn();
    expect([matrix.warmingUpCount(a), matrix.warmingUpCount(b)]).toEqual([0, 0]);
    matrix.closeRow("a");
    expect(matrix.warmingUpCount(matrix.addRow("c"))).toBe(3);
  });

  it("warming-up counts follow their rows through a compaction", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { columns: 4 });
    matrix.addRow("a");
    matrix.addColumn();
    matrix.addRow("b");
    matrix.closeRow("a");
    matrix.flush();
    expect(matrix.getRowIndex("b")).toBe(0);
    expect(matrix.warmingUpCount(0)).toBe(4);
  });

  it("cells: set, get, add and a row view that writes through; a closed row or a column outside is a RangeError", () => {
    const { app } = clockedApp();
    const matrix = new TimeWindowMatrix(app, { columns: 4 });
    const row = matrix.addRow("host");
    matrix.set(row, 1, 2.5);
    expect(matrix.add(row, 1)).toBe(3.5);
    expect(matrix.add(row, 1, 10)).toBe(13.5);
    matrix.rowView(row)[3] = 7;
    expect(matrix.get(row, 3)).toBe(7);
    expect(matrix.array[row * 4 + 1]).toBe(13.5);
    expect(() => matrix.get(row, 4)).toThrow(RangeError);
    expect(() => matrix.get(row + 1, 0)).toThrow(/row 1 is not open/);
  });

  it("integer cells: i4 in an Int32Array, i8 truncated to integers; NaN fill for floats", () => {
    const { app } = clockedApp();
    const ints = new TimeWindowMatrix(app, { dtype: "i4", columns: 2 });
    expect(ints.array).toBeInstanceOf(Int32Array);
    const r = ints.addRow("a");
    ints.set(r, 0, 2.9);
    expect(ints.get(r, 0)).toBe(2);
    const longs = new TimeWindowMatrix(app, { dtype: "i8", columns: 2 });
    const l = longs.addRow("a");
    longs.set(l, 0, -2.9);
    longs.add(l, 1, 2 ** 40 + 0.5);
    expect([longs.get(l, 0), longs.get(l, 1)]).toEqual([-2, 2 ** 40]);
    const gaps = new TimeWindowMatrix(app, { columns: 2, fill: Number.NaN });
    const g = gaps.addRow("a");
    gaps.set(g, 1, 1);
    gaps.addColumn();
    expect([...gaps.rowView(g)]).toEqual([1, Number.NaN]);
  });

  it.each([
    [{ columns: 0 }, /columns must be a positive integer, got 0/],
    [{ columns: 2.5 }, /columns must be a positive integer/],
    [{ resolution: -60 }, /resolution must be a positive number, got -60/],
    [{ dtype: "U10" as "f8" }, /cells must be numbers, not 'U10'/],
  ])("%o is a ConfigError", (options, message) => {
    const { app } = clockedApp();
    expect(() => new TimeWindowMatrix(app, { id: "W", ...options })).toThrow(ConfigError);
    expect(() => new TimeWindowMatrix(app, { id: "W", ...options })).toThrow(message);
  });

  it("a clock-driven matrix follows the application clock while it is attached, and only then", () => {
    const { app, clock } = clockedApp(600);
    const matrix = new TimeWindowMatrix(app, { resolution: 60, columns: 5, clockDriven: true }); // start 660
    clock.now = 700;
    app.tick();
    expect(matrix.start).toBe(660);
    matrix.attach();
    matrix.attach();
    app.tick();
    expect(matrix.start).toBe(720); // (720 - 700) / 60 > 0.25
    matrix.detach();
    clock.now = 1000;
    app.tick();
    expect(matrix.start).toBe(1020);
    matrix.detach();
    clock.now = 2000;
    app.tick();
    expect(matrix.start).toBe(1020);
    const manual = new TimeWindowMatrix(app, { resolution: 60, columns: 5 });
    const start = manual.start;
    manual.attach();
    clock.now += 600;
    app.tick();
    expect(manual.start).toBe(start);
  });
});

/** Counts hits per host into the window: BSPump's TimeWindowAnalyzer pattern. */
class HitsPerHost extends TimeWindowAnalyzer<{ host?: string; "@timestamp"?: number }> {
  readonly alarms: string[] = [];
  override predicate(_context: Context, event: { host?: string; "@timestamp"?: number }): boolean {
    return event.host !== undefined && typeof event["@timestamp"] === "number";
  }
  override evaluate(_context: Context, event: { host?: string; "@timestamp"?: number }): void {
    const window = this.timeWindow;
    const row = window.getRowIndex(event.host!) ?? window.addRow(event.host!);
    const column = window.getColumn(event["@timestamp"]!);
    if (column !== undefined) window.add(row, column, 1);
  }
  override analyze(): void {
    for (const [host, row] of this.timeWindow.rows()) {
      const total = this.timeWindow.rowView(row).reduce((sum, hits) => sum + hits, 0);
      if (total >= 2) this.alarms.push(`${host}:${total}`);
    }
  }
}

describe("TimeWindowAnalyzer", () => {
  it("passes events through unchanged (BSPump's vector)", async () => {
    const t = new ProcessorTestCase();
    t.setUpProcessor((app, p) => new TimeWindowAnalyzer(app, p, { clockDriven: false }));
    const output = await t.execute([[null, { lat: 70, lon: 10 }], [null, { lat: 50, lon: 30 }]]);
    expect(output.map(([, event]) => event)).toEqual([{ lat: 70, lon: 10 }, { lat: 50, lon: 30 }]);
  });

  it("creates and registers '<Id>Matrix' with its resolution and columns, read from options or config", () => {
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:FromFile]\ncolumns = 4\nresolution = 10s\n" });
    const fromOptions = t.setUpProcessor((app, p) => new HitsPerHost(app, p, { resolution: 30, columns: 6 })) as HitsPerHost;
    expect(fromOptions.timeWindow.id).toBe("HitsPerHostMatrix");
    expect([fromOptions.timeWindow.resolution, fromOptions.timeWindow.columns, fromOptions.timeWindow.dtype]).toEqual([30, 6, "f8"]);
    expect(locateMatrix(t.app, "HitsPerHostMatrix")).toBe(fromOptions.timeWindow);
    const ints = new TimeWindowAnalyzer(t.app, t.pipeline, { id: "Ints", dtype: "i4" });
    const cells: Int32Array = ints.timeWindow.array; // typed by the dtype
    expect(cells).toBeInstanceOf(Int32Array);
    const fromFile = new HitsPerHost(t.app, t.pipeline, { id: "FromFile", resolution: 30 });
    expect([fromFile.timeWindow.resolution, fromFile.timeWindow.columns]).toEqual([10, 4]);
    expect(fromFile.restGet()).toMatchObject({ Id: "FromFile", Matrix: "FromFileMatrix" });
  });

  it("evaluates events into the slots of their timestamps; outside the window they are counted, not stored", async () => {
    const t = new ProcessorTestCase();
    const now = t.clock.now; // 2025-01-01T00:00:00Z, a minute boundary
    const analyzer = t.setUpProcessor((app, p) => new HitsPerHost(app, p, { resolution: 60, columns: 3 })) as HitsPerHost;
    const window = analyzer.timeWindow;
    expect([window.end, window.start]).toEqual([now - 120, now + 60]);
    const output = await t.execute([
      [null, { host: "a", "@timestamp": now - 30 }],
      [null, { host: "a", "@timestamp": now + 10 }],
      [null, { host: "b", "@timestamp": now - 90 }],
      [null, { host: "b", "@timestamp": now - 200 }],
      [null, { host: "c", "@timestamp": now + 60 }],
      [null, { note: "no host" }],
    ]);
    expect(output).toHaveLength(6);
    // slots: (now-120, now-60], (now-60, now], (now, now+60): start is the boundary after now
    expect([...window.rowView(window.getRowIndex("a")!)]).toEqual([0, 1, 1]);
    expect([...window.rowView(window.getRowIndex("b")!)]).toEqual([1, 0, 0]);
    expect([...window.rowView(window.getRowIndex("c")!)]).toEqual([0, 0, 0]);
    expect(window.counters).toEqual({ early: 1, late: 1 });
  });

  it("clock_driven: the window advances with the application clock while the pipeline runs", async () => {
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:HitsPerHost]\nclock_driven = yes\nresolution = 60\ncolumns = 3\n" });
    const now = t.clock.now;
    const analyzer = t.setUpProcessor(HitsPerHost) as HitsPerHost;
    const window = analyzer.timeWindow;
    expect(window.clockDriven).toBe(true);
    await t.execute([[null, { host: "a", "@timestamp": now - 30 }]]);
    t.advance(44);
    expect(window.start).toBe(now + 60);
    expect([...window.rowView(0)]).toEqual([0, 1, 0]);
    t.advance(1); // a quarter of a slot before start: shift
    expect(window.start).toBe(now + 120);
    expect([...window.rowView(0)]).toEqual([1, 0, 0]);
    expect(window.warmingUpCount(0)).toBe(2);
    t.advance(120);
    expect(window.start).toBe(now + 240);
    expect([...window.rowView(0)]).toEqual([0, 0, 0]);
    expect(window.warmingUpCount(0)).toBe(0);
    await t.tearDown();
    t.advance(600);
    expect(window.start).toBe(now + 240);
  });

  it("analyzes on the clock what the window holds", async () => {
    const t = new ProcessorTestCase();
    const now = t.clock.now;
    const analyzer = t.setUpProcessor((app, p) => new HitsPerHost(app, p, { analyzeOnClock: true, config: { analyze_period: 60 } })) as HitsPerHost;
    await t.execute([
      [null, { host: "a", "@timestamp": now - 1 }],
      [null, { host: "a", "@timestamp": now - 2 }],
      [null, { host: "b", "@timestamp": now - 1 }],
    ]);
    t.advance(60);
    expect(analyzer.alarms).toEqual(["a:2"]);
    await t.tearDown();
  });

  it("analyzers can share a matrix by id; a matrix of another kind is a UsageError; two default matrices of one id collide", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const shared = addMatrix(app, new TimeWindowMatrix(app, { id: "Shared", columns: 4 }));
    expect(new HitsPerHost(app, p, { id: "A", matrixId: "Shared" }).timeWindow).toBe(shared);
    expect(new HitsPerHost(app, p, { id: "B", matrixId: shared }).timeWindow).toBe(shared);
    addMatrix(app, new SessionMatrix(app, { id: "Sessions" }));
    expect(() => new HitsPerHost(app, p, { id: "C", matrixId: "Sessions" })).toThrow(UsageError);
    expect(() => new HitsPerHost(app, p, { id: "C", matrixId: "Sessions" })).toThrow(/P\.C: matrix 'Sessions' is a SessionMatrix, not a TimeWindowMatrix/);
    expect(new HitsPerHost(app, p).timeWindow.id).toBe("HitsPerHostMatrix");
    expect(() => new HitsPerHost(app, new Pipeline(app, "Q"))).toThrow(DuplicateError);
  });
});

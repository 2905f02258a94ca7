import { describe, expect, it } from "vitest";
import { NotFoundError, type Context } from "../../src/index.js";
import { SessionAnalyzer, SessionMatrix } from "../../src/analyzer/index.js";
import { ProcessorTestCase } from "../../src/testing/index.js";
import { createApp } from "../helpers.js";

describe("SessionMatrix (BSPump's test_session_matrix vectors)", () => {
  it("store: 100 sessions, each row holding its record", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { f1: "U20", f2: "i8" } });
    for (let i = 0; i < 100; i++) {
      const name = `id_${i}`;
      const index = matrix.addRow(name);
      expect(matrix.store(name, { f1: `something${i}`, f2: i })).toBe(true);
      expect(matrix.get(index, "f1")).toBe(`something${i}`);
      expect(matrix.get(index, "f2")).toBe(i);
    }
  });

  it("store_event: copies the fields the matrix has (only the keys given, when given)", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { f1: "U20", f2: "i8", f3: "f8", f4: "U30" } });
    const abc = matrix.addRow("abc");
    matrix.storeEvent(abc, { id: "abc", f0: 7, f1: "abcd", f2: 123, f3: 123.0 });
    expect(matrix.decodeRow(abc)).toEqual({ f1: "abcd", f2: 123, f3: 123, f4: "", id: "abc" });
    const bcd = matrix.addRow("bcd");
    matrix.storeEvent(bcd, { id: "bcd", f0: 666, f2: 88, f4: "cdef" }, ["f2", "f4", "f5"]);
    expect(matrix.decodeRow(bcd)).toEqual({ f1: "", f2: 88, f3: 0, f4: "cdef", id: "bcd" });
  });

  it("decode_row: the fields (or the keys given) and the session name under primary_name", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { f0: "U3", f1: "U8" }, config: { primary_name: "event_id" } });
    const abc = matrix.addRow("abc");
    matrix.set(abc, "f0", "aaa");
    matrix.set(abc, "f1", "bbb");
    expect(matrix.decodeRow(abc)).toEqual({ f0: "aaa", f1: "bbb", event_id: "abc" });
    const bcd = matrix.addRow("bcd");
    matrix.set(bcd, "f0", "bbb");
    matrix.set(bcd, "f1", "ccc");
    expect(matrix.decodeRow(bcd, ["f0"])).toEqual({ f0: "bbb", event_id: "bcd" });
  });
});

describe("SessionMatrix", () => {
  it("keeps each field in its own typed array (strings in an array)", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { count: "i4", bytes: "f8", flags: "u1", user: "U4" } });
    expect(matrix.field("count")).toBeInstanceOf(Int32Array);
    expect(matrix.field("bytes")).toBeInstanceOf(Float64Array);
    expect(matrix.field("flags")).toBeInstanceOf(Uint8Array);
    expect(Array.isArray(matrix.field("user"))).toBe(true);
    expect(matrix.fieldNames).toEqual(["count", "bytes", "flags", "user"]);
  });

  it("converts values as numpy would store them: numbers from numeric strings and booleans, strings cut to their length", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { i: "i4", l: "i8", f: "f8", s: "U4" } });
    const row = matrix.addRow("x");
    matrix.storeEvent(row, { i: "42", l: 7.9, f: true, s: "abcdefgh" });
    expect(matrix.decodeRow(row)).toEqual({ i: 42, l: 7, f: 1, s: "abcd", id: "x" });
    matrix.storeEvent(row, { i: "many", f: "x", s: null });
    expect(matrix.decodeRow(row)).toEqual({ i: 0, l: 7, f: Number.NaN, s: "", id: "x" });
  });

  it("store() replaces the whole row (missing fields cleared) and is false for an unknown session", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { a: "f8", b: "f8" } });
    const row = matrix.addRow("s");
    matrix.store("s", { a: 1, b: 2 });
    matrix.store("s", { b: 3 });
    expect(matrix.decodeRow(row)).toEqual({ a: 0, b: 3, id: "s" });
    expect(matrix.store("nobody", { a: 1 })).toBe(false);
  });

  it("a closed session's row is not readable; an unknown field is a NotFoundError", () => {
    const matrix = new SessionMatrix(createApp(), { dtype: { a: "f8" } });
    const row = matrix.addRow("s");
    expect(() => matrix.get(row, "b")).toThrow(NotFoundError);
    matrix.closeRow("s");
    expect(() => matrix.decodeRow(row)).toThrow(RangeError);
    expect(() => matrix.set(row, "a", 1)).toThrow(/row 0 is not open/);
  });
});

type Hit = { user: string; bytes: number; "@timestamp": number };

/** Sessions per user: bytes and hits; analyze() reports and closes sessions idle for 30 s. */
class UserSessions extends SessionAnalyzer<Hit> {
  readonly ended: Record<string, unknown>[] = [];

  constructor(...args: ConstructorParameters<typeof SessionAnalyzer<Hit>>) {
    super(args[0], args[1], { dtype: { bytes: "f8", hits: "i4", last: "f8" }, analyzeOnClock: true, config: { analyze_period: 10 }, ...args[2] });
  }

  override evaluate(_context: Context, event: Hit): void {
    const sessions = this.sessions;
    const row = sessions.getRowIndex(event.user) ?? sessions.addRow(event.user);
    sessions.set(row, "bytes", (sessions.get(row, "bytes") as number) + event.bytes);
    sessions.set(row, "hits", (sessions.get(row, "hits") as number) + 1);
    sessions.set(row, "last", event["@timestamp"]);
  }

  override analyze(): void {
    const idle = this.sessions.rows().filter(([, row]) => this.time() - (this.sessions.get(row, "last") as number) >= 30);
    for (const [, row] of idle) this.ended.push(this.sessions.decodeRow(row, ["bytes", "hits"]));
    this.sessions.closeRows(idle.map(([name]) => name));
  }
}

describe("SessionAnalyzer", () => {
  it("passes events through unchanged (BSPump's vector)", async () => {
    const t = new ProcessorTestCase();
    t.setUpProcessor((app, p) => new SessionAnalyzer(app, p, { dtype: { a: "i8", b: "f8" } }));
    const output = await t.execute([[null, { lat: 70, lon: 10 }], [null, { lat: 50, lon: 30 }]]);
    expect(output.map(([, event]) => event)).toEqual([{ lat: 70, lon: 10 }, { lat: 50, lon: 30 }]);
  });

  it("creates '<Id>Matrix' with the fields given; none by default", () => {
    const t = new ProcessorTestCase();
    const analyzer = t.setUpProcessor(SessionAnalyzer) as SessionAnalyzer;
    expect(analyzer.sessions.id).toBe("SessionAnalyzerMatrix");
    expect(analyzer.sessions.fieldNames).toEqual([]);
    expect(analyzer.restGet()).toMatchObject({ Matrix: "SessionAnalyzerMatrix" });
  });

  it("opens sessions, fills them, and closes the idle ones on the clock", async () => {
    const t = new ProcessorTestCase();
    const now = t.clock.now;
    const analyzer = t.setUpProcessor((app, p) => new UserSessions(app, p)) as UserSessions;
    await t.execute([
      [null, { user: "alice", bytes: 100, "@timestamp": now }],
      [null, { user: "bob", bytes: 5, "@timestamp": now }],
      [null, { user: "alice", bytes: 50, "@timestamp": now }],
    ]);
    expect(analyzer.sessions.size).toBe(2);
    t.advance(20);
    await t.execute([[null, { user: "bob", bytes: 1, "@timestamp": now + 20 }]]);
    t.advance(10); // alice idle 30 s
    expect(analyzer.ended).toEqual([{ bytes: 150, hits: 2, id: "alice" }]);
    expect(analyzer.sessions.getRowIndex("alice")).toBeUndefined();
    expect(analyzer.sessions.size).toBe(1);
    t.advance(20);
    expect(analyzer.ended).toEqual([{ bytes: 150, hits: 2, id: "alice" }, { bytes: 6, hits: 2, id: "bob" }]);
    expect(analyzer.sessions.size).toBe(0);
    await t.execute([[null, { user: "alice", bytes: 1, "@timestamp": now + 50 }]]);
    expect(analyzer.sessions.decodeRow(analyzer.sessions.getRowIndex("alice")!)).toEqual({ bytes: 1, hits: 1, last: now + 50, id: "alice" });
    await t.tearDown();
  });

  it("can work on a matrix it is given", () => {
    const t = new ProcessorTestCase();
    const shared = new SessionMatrix(t.app, { id: "Shared", dtype: { n: "i4" } });
    const analyzer = t.setUpProcessor((app, p) => new SessionAnalyzer(app, p, { matrixId: shared })) as SessionAnalyzer;
    expect(analyzer.sessions).toBe(shared);
  });
});

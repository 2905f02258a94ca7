import { describe, expect, it } from "vitest";
import { ConfigError, DuplicateError, NotFoundError } from "../../src/index.js";
import { MatrixService, NamedMatrix, SessionMatrix, TimeWindowMatrix, addMatrix, locateMatrix, matrixService } from "../../src/analyzer/index.js";
import { createApp } from "../helpers.js";

/** BSPump's NamedMatrix with a float cell per row, as its tests use it. */
function named(config: Record<string, number> = {}): SessionMatrix {
  return new SessionMatrix(createApp(), { id: "M", dtype: { v: "f8" }, config });
}

function changes(matrix: NamedMatrix): { count: number } {
  const seen = { count: 0 };
  matrix.pubsub.subscribe("Matrix changed!", () => seen.count++);
  return seen;
}

describe("NamedMatrix (BSPump's test_named_matrix vectors)", () => {
  it("starts with one free row and no names", () => {
    const matrix = named();
    expect(matrix.capacity).toBe(1);
    expect(matrix.size).toBe(0);
    expect(matrix.closedCount).toBe(1);
    expect(matrix.rows()).toEqual([]);
    expect((matrix.field("v") as Float64Array).length).toBe(1);
  });

  it("add_row: 100 rows get indexes 0..99 in order, and names map both ways", () => {
    const matrix = named();
    for (let i = 0; i < 100; i++) {
      const name = `id_${i}`;
      expect(matrix.addRow(name)).toBe(i);
      expect(matrix.getRowIndex(name)).toBe(i);
      expect(matrix.getRowName(i)).toBe(name);
    }
    expect(matrix.size).toBe(100);
    expect(matrix.rows().slice(0, 2)).toEqual([["id_0", 0], ["id_1", 1]]);
  });

  it("flush: closing rows 0..39 of 100 and flushing leaves 60 rows, in order, with their values", () => {
    const matrix = named();
    for (let i = 0; i < 100; i++) matrix.set(matrix.addRow(String(i)), "v", i);
    for (let i = 0; i < 40; i++) matrix.closeRow(String(i));
    matrix.flush();
    expect(matrix.capacity).toBe(60);
    expect(matrix.size).toBe(60);
    expect([...(matrix.field("v") as Float64Array)]).toEqual(Array.from({ length: 60 }, (_, i) => 40 + i));
    for (let i = 40; i < 100; i++) {
      expect(matrix.getRowIndex(String(i))).toBe(i - 40);
      expect(matrix.getRowName(i - 40)).toBe(String(i));
    }
  });

  it("close_row: the name is gone both ways, the row is free, a second close is false", () => {
    const matrix = named();
    for (let i = 0; i < 100; i++) matrix.addRow(String(i));
    for (let i = 0; i < 5; i++) {
      expect(matrix.closeRow(String(i))).toBe(true);
      expect(matrix.getRowIndex(String(i))).toBeUndefined();
      expect(matrix.getRowName(i)).toBeUndefined();
      expect(matrix.isOpen(i)).toBe(false);
    }
    expect(matrix.closeRow("0")).toBe(false);
    expect(matrix.closeRow("never")).toBe(false);
    expect(matrix.size).toBe(95);
  });
});

describe("NamedMatrix", () => {
  it("grows by max(5, 10 %) rows when no row is free", () => {
    const matrix = named();
    matrix.addRow("a");
    expect(matrix.capacity).toBe(1);
    matrix.addRow("b");
    expect(matrix.capacity).toBe(6);
    for (let i = 0; i < 4; i++) matrix.addRow(`c${i}`);
    expect(matrix.capacity).toBe(6);
    matrix.addRow("d");
    expect(matrix.capacity).toBe(11);
    for (let i = 0; i < 100; i++) matrix.addRow(`e${i}`);
    expect(matrix.capacity).toBeGreaterThanOrEqual(matrix.size);
    expect(matrix.get(matrix.getRowIndex("a")!, "v")).toBe(0);
  });

  it("a name that has a row gets that row again", () => {
    const matrix = named();
    const index = matrix.addRow("a");
    expect(matrix.addRow("a")).toBe(index);
    expect(matrix.size).toBe(1);
  });

  it("a freed row is reused, with its cells cleared even if it was closed without clearing", () => {
    const matrix = named({ max_closed_rows_capacity: 1 });
    for (const name of ["a", "b", "c"]) matrix.addRow(name);
    matrix.set(1, "v", 42);
    matrix.closeRow("b", false);
    expect((matrix.field("v") as Float64Array)[1]).toBe(42); // kept until reused
    expect(matrix.addRow("d")).toBe(1);
    expect(matrix.get(1, "v")).toBe(0);
    matrix.set(2, "v", 7);
    matrix.closeRow("c");
    expect((matrix.field("v") as Float64Array)[2]).toBe(0);
  });

  it("compacts by itself when max_closed_rows_capacity of the rows are free; rows keep their order and values", () => {
    const matrix = named({ max_closed_rows_capacity: 0.5 });
    for (const [i, name] of ["a", "b", "c", "d", "e", "f"].entries()) matrix.set(matrix.addRow(name), "v", i + 1);
    expect(matrix.capacity).toBe(6);
    matrix.closeRow("a");
    matrix.closeRow("b");
    expect(matrix.capacity).toBe(6);
    matrix.closeRow("c"); // 3 of 6 free
    expect(matrix.capacity).toBe(3);
    expect(matrix.rows()).toEqual([["d", 0], ["e", 1], ["f", 2]]);
    expect([...(matrix.field("v") as Float64Array)]).toEqual([4, 5, 6]);
  });

  it("closeRows() closes a batch and compacts once, after it", () => {
    const matrix = named({ max_closed_rows_capacity: 0.2 });
    for (let i = 0; i < 11; i++) matrix.addRow(`r${i}`);
    const seen = changes(matrix);
    const flushes: number[] = [];
    const flush = matrix.flush.bind(matrix);
    matrix.flush = () => {
      flushes.push(matrix.size);
      return flush();
    };
    expect(matrix.closeRows(matrix.rows().filter(([name]) => name !== "r5").map(([name]) => name))).toBe(10);
    expect(flushes).toEqual([1]);
    expect(matrix.rows()).toEqual([["r5", 0]]);
    expect(seen.count).toBe(2); // the closes, then the renumbering
  });

  it("publishes 'Matrix changed!' on add, close, flush and zeros", () => {
    const matrix = named({ max_closed_rows_capacity: 1 });
    const seen = changes(matrix);
    matrix.addRow("a");
    matrix.addRow("a");
    matrix.addRow("b");
    expect(seen.count).toBe(2);
    matrix.closeRow("a"); // 5 of 6 rows free: below the capacity of 1, no compaction
    matrix.closeRow("a");
    expect(seen.count).toBe(3);
    matrix.flush();
    matrix.zeros();
    expect(seen.count).toBe(5);
  });

  it("zeros() drops every row", () => {
    const matrix = named();
    for (let i = 0; i < 20; i++) matrix.set(matrix.addRow(String(i)), "v", 1);
    matrix.zeros();
    expect(matrix.capacity).toBe(1);
    expect(matrix.size).toBe(0);
    expect(matrix.getRowIndex("3")).toBeUndefined();
    expect(matrix.addRow("x")).toBe(0);
    expect(matrix.get(0, "v")).toBe(0);
  });

  it("an unknown field is a NotFoundError naming the fields; an unknown type is a ConfigError", () => {
    const matrix = named();
    expect(() => matrix.column("nope")).toThrow(NotFoundError);
    expect(() => matrix.column("nope")).toThrow(/Field 'nope' not found \(in matrix 'M' \(fields: v\)\)/);
    expect(() => new SessionMatrix(createApp(), { id: "Bad", dtype: { f: "float128" as "f8" } })).toThrow(ConfigError);
    expect(() => new SessionMatrix(createApp(), { id: "Bad", dtype: { f: "float128" as "f8" } })).toThrow(/matrix 'Bad' field 'f': unknown type 'float128'/);
  });

  it("restGet() shows rows and fields", () => {
    const matrix = named();
    matrix.addRow("a");
    expect(matrix.restGet()).toEqual({ Id: "M", Class: "SessionMatrix", Rows: 1, Closed: 0, Capacity: 1, Fields: ["v"], PrimaryName: "id" });
  });
});

describe("MatrixService", () => {
  it("is one per application, registered as 'bspump.MatrixService'", () => {
    const app = createApp();
    const service = matrixService(app);
    expect(service).toBeInstanceOf(MatrixService);
    expect(matrixService(app)).toBe(service);
    expect(app.getService(MatrixService.NAME)).toBe(service);
    expect(matrixService(createApp())).not.toBe(service);
  });

  it("adds and locates matrices by id, refuses duplicates, says what to do for a missing one", () => {
    const app = createApp();
    const matrix = addMatrix(app, new TimeWindowMatrix(app, { id: "Traffic" }));
    expect(locateMatrix(app, "Traffic")).toBe(matrix);
    expect(locateMatrix(app, matrix)).toBe(matrix);
    expect(() => addMatrix(app, new TimeWindowMatrix(app, { id: "Traffic" }))).toThrow(DuplicateError);
    expect(() => locateMatrix(app, "Nope")).toThrow(/Matrix 'Nope' not found.*addMatrix\(\)/);
    expect([...matrixService(app).matrices.keys()]).toEqual(["Traffic"]);
  });
});

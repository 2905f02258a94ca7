import { Connection, Pipeline } from "@pump/core";
import { describe, expect, it } from "vitest";
import { buildInsert, isRowError, isTransient, MySQLConnection, MySQLEventError, MySQLRowError, MySQLSink, MySQLSource, quoteIdentifier, toParameter } from "../../src/index.js";
import { createApp } from "../helpers.js";

class OtherConnection extends Connection {}

function setup(): { app: ReturnType<typeof createApp>; pipeline: Pipeline } {
  const app = createApp();
  app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
  app.pumpService.addConnection(new OtherConnection(app, "Other"));
  return { app, pipeline: new Pipeline(app, "P") };
}

describe("MySQLConnection configuration", () => {
  it("takes BSPump's keys, or a URL whose parts win", () => {
    const app = createApp("[connection:A]\nhost=db.example\nport=3307\nuser=u\npassword=p\ndb=shop\n[connection:B]\nurl=mysql://alice:s%40cret@10.0.0.1:3310/sales\nhost=ignored\n");
    const a = new MySQLConnection(app, "A");
    expect([a.host, a.port, a.user, a.database]).toEqual(["db.example", 3307, "u", "shop"]);
    const b = new MySQLConnection(app, "B");
    expect([b.host, b.port, b.user, b.database]).toEqual(["10.0.0.1", 3310, "alice", "sales"]);
    expect(JSON.stringify(b.restGet())).not.toContain("cret");
  });

  it("refuses bad values, naming the key", () => {
    expect(() => new MySQLConnection(createApp(), { id: "X", config: { url: "postgres://x" } })).toThrow(/\[connection:X\] key 'url'/);
    expect(() => new MySQLConnection(createApp(), { id: "X", config: { connection_pool_maxsize: 0 } })).toThrow(/key 'connection_pool_maxsize'/);
  });
});

describe("MySQLSource and MySQLSink configuration", () => {
  it("checks their keys", () => {
    const { app, pipeline } = setup();
    expect(() => new MySQLSource(app, pipeline, "MySQLConnection")).toThrow(/key 'query'/);
    expect(() => new MySQLSource(app, pipeline, "MySQLConnection", { config: { query: "SELECT 1", chunk_size: 0 } })).toThrow(/key 'chunk_size'/);
    expect(() => new MySQLSink(app, pipeline, "MySQLConnection", { config: { columns: "a" } })).toThrow(/key 'table'/);
    expect(() => new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "t" } })).toThrow(/key 'columns'/);
    expect(() => new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "t", columns: "a,b", data: "x" } })).toThrow(/key 'data'/);
    expect(() => new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "t", columns: "a", mode: "merge" } })).toThrow(/key 'mode'/);
    expect(() => new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "t", columns: "a", update_columns: "b" } })).toThrow(/key 'update_columns'/);
    expect(() => new MySQLSource(app, pipeline, "Other", { config: { query: "SELECT 1" } })).toThrow(/not a MySQLConnection/);
  });

  it("the sink builds its statement from the config and maps event keys to columns", () => {
    const { app, pipeline } = setup();
    const sink = new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "shop.orders", columns: "id, total", data: "order_id, sum", mode: "upsert" } });
    expect(sink.statement).toBe("INSERT INTO `shop`.`orders` (`id`, `total`) VALUES ? ON DUPLICATE KEY UPDATE `id` = VALUES(`id`), `total` = VALUES(`total`)");
    expect(sink.keys).toEqual(["order_id", "sum"]);
    expect(() => sink.process({}, "text" as unknown as Record<string, unknown>)).toThrow(MySQLEventError);
    sink.process({}, { order_id: 1 });
    expect(sink.buffered).toBe(1);
  });
});

describe("statements and values", () => {
  it("quotes identifiers and builds the three modes", () => {
    expect(quoteIdentifier("we`ird")).toBe("`we``ird`");
    expect(buildInsert("t", ["a", "b"], "insert", ["a", "b"])).toBe("INSERT INTO `t` (`a`, `b`) VALUES ?");
    expect(buildInsert("t", ["a", "b"], "ignore", ["a", "b"])).toBe("INSERT IGNORE INTO `t` (`a`, `b`) VALUES ?");
    expect(buildInsert("t", ["a", "b"], "upsert", ["b"])).toBe("INSERT INTO `t` (`a`, `b`) VALUES ? ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)");
  });

  it("passes scalars, Dates and Buffers as they are, missing as NULL, objects as JSON", () => {
    const date = new Date();
    expect(toParameter(undefined)).toBeNull();
    expect(toParameter(null)).toBeNull();
    expect(toParameter(5)).toBe(5);
    expect(toParameter("s")).toBe("s");
    expect(toParameter(date)).toBe(date);
    expect(toParameter(Buffer.from([1]))).toEqual(Buffer.from([1]));
    expect(toParameter(new Uint8Array([2]))).toEqual(Buffer.from([2]));
    expect(toParameter({ a: [1] })).toBe('{"a":[1]}');
  });

  it("tells transient errors and row errors apart", () => {
    expect(isTransient({ code: "ECONNREFUSED" })).toBe(true);
    expect(isTransient({ code: "ER_LOCK_DEADLOCK", errno: 1213 })).toBe(true);
    expect(isTransient({ code: "ER_DUP_ENTRY", errno: 1062 })).toBe(false);
    expect(isTransient(new Error("x"))).toBe(false);
    expect(isRowError({ code: "ER_DUP_ENTRY", errno: 1062 })).toBe(true);
    expect(isRowError({ code: "ER_NO_SUCH_TABLE", errno: 1146 })).toBe(false);
  });

  it("a row error names the table, the row and the server's reason", () => {
    const error = new MySQLRowError("t", { id: 1, photo: Buffer.alloc(3) }, Object.assign(new Error("dup"), { code: "ER_DUP_ENTRY", errno: 1062, sqlMessage: "Duplicate entry '1' for key 'PRIMARY'" }));
    expect(error.reason).toBe("Duplicate entry '1' for key 'PRIMARY'");
    expect(error.message).toBe(`row refused by t: Duplicate entry '1' for key 'PRIMARY' (ER_DUP_ENTRY); row {"id":1,"photo":"<3 bytes>"}`);
    expect(error.mysqlCode).toBe("PUMP_MYSQL_ROW");
  });
});

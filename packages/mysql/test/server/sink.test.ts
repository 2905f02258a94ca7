import { Pipeline, Source } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MySQLConnection, MySQLDeliveryError, MySQLRowError, MySQLSink } from "../../src/index.js";
import { createApp, UnitTestSource, runApp, settlements, TcpProxy, TestDatabase, until } from "../helpers.js";

/** A pipeline whose errors are soft (dropped and counted) and kept for the test. */
class Lenient extends Pipeline {
  readonly errors: unknown[] = [];
  override handleError(error: unknown): boolean {
    this.errors.push(error);
    return true;
  }
}

/** Produces `total` rows in batches of 100, as fast as the pipeline lets it. */
class Rows extends Source<Record<string, unknown>> {
  total = 0;
  produced = 0;

  async main(): Promise<void> {
    while (this.produced < this.total) {
      await this.pipeline.ready();
      const n = Math.min(100, this.total - this.produced);
      await this.processBatch(Array.from({ length: n }, (_, k) => ({ id: this.produced + k, name: `n${this.produced + k}` })));
      this.produced += n;
    }
    await this.stopped();
  }
}

describeWithServer("MySQLSink against MariaDB", "MYSQL_URL", (serverUrl) => {
  const db = new TestDatabase(serverUrl);
  beforeAll(async () => {
    await db.create();
    await db.query("CREATE TABLE parent (id INT PRIMARY KEY)");
    await db.query("INSERT INTO parent VALUES (1), (2)");
  });
  afterAll(() => db.drop());
  const conf = (): string => `[connection:MySQLConnection]\nurl=${db.url}\n`;

  function pump(table: string, config: Record<string, string | number>, pipeline?: (app: ReturnType<typeof createApp>) => Pipeline) {
    const app = createApp(conf());
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const p = pipeline?.(app) ?? new Pipeline(app, "Write");
    const feed = new UnitTestSource<Record<string, unknown>>(app, p);
    const sink = new MySQLSink(app, p, "MySQLConnection", { config: { table, ...config } });
    p.build(feed, sink);
    app.pumpService.addPipeline(p);
    return { app, pipeline: p, feed, sink, run: runApp(app) };
  }

  it("writes events as rows in multi-row inserts, mapping keys to columns (missing → NULL, objects → JSON), confirming each after its statement", async () => {
    await db.query("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50), email VARCHAR(100), tags JSON, born DATETIME, photo BLOB)");
    const { feed, sink, run } = pump("people", { columns: "id, name, email, tags, born, photo", data: "id, name, mail, tags, born, photo", batch_size: 100 });
    await run.started;
    const { settled, context } = settlements();
    const N = 950;
    const events = Array.from({ length: N }, (_, n) => ({
      id: n,
      name: `person ${n}`,
      ...(n % 2 === 0 ? { mail: `p${n}@example.com` } : {}),
      tags: n === 7 ? ["a", "b"] : undefined,
      born: n === 7 ? new Date(Date.UTC(2000, 1, 3, 4, 5, 6)) : null,
      photo: n === 7 ? Buffer.from([0, 1, 255]) : null,
    }));
    await feed.feed(events, events.map((_, n) => context(n)));
    await until(() => settled.size === N, "every row confirmed");
    expect([...settled.values()].every((s) => s === "done")).toBe(true);
    expect(await run.stop()).toBe(0);
    expect(await db.count("people")).toBe(N);
    expect(sink.stats).toMatchObject({ delivered: N, rejected: 0, failed: 0 });
    expect(sink.stats.batches).toBeGreaterThanOrEqual(Math.ceil(N / 100));
    const [seven] = await db.query<Record<string, unknown>[]>("SELECT * FROM people WHERE id = 7");
    expect(seven).toMatchObject({ name: "person 7", email: null, photo: Buffer.from([0, 1, 255]) });
    // Stored as JSON text (mysql2 may hand it back parsed).
    expect(typeof seven!.tags === "string" ? JSON.parse(seven!.tags) : seven!.tags).toEqual(["a", "b"]);
    expect((seven!.born as Date).getTime()).toBe(new Date(2000, 1, 3, 4, 5, 6).getTime());
    const [eight] = await db.query<Record<string, unknown>[]>("SELECT email, tags FROM people WHERE id = 8");
    expect(eight).toEqual({ email: "p8@example.com", tags: null });
  });

  it("upserts with mode=upsert: new keys are inserted, existing ones updated", async () => {
    await db.query("CREATE TABLE counters (name VARCHAR(20) PRIMARY KEY, value INT, note VARCHAR(20))");
    await db.query("INSERT INTO counters VALUES ('a', 1, 'keep'), ('b', 2, 'keep')");
    const { feed, sink, run } = pump("counters", { columns: "name, value, note", mode: "upsert", update_columns: "value" });
    await run.started;
    await feed.feed([
      { name: "a", value: 10, note: "new" },
      { name: "c", value: 30, note: "new" },
    ]);
    await until(() => sink.stats.delivered === 2, "the upsert");
    expect(await run.stop()).toBe(0);
    expect(await db.query("SELECT * FROM counters ORDER BY name")).toEqual([
      { name: "a", value: 10, note: "keep" },
      { name: "b", value: 2, note: "keep" },
      { name: "c", value: 30, note: "new" },
    ]);
  });

  it("a batch with constraint violations: the good rows are stored, each bad one is reported with its row and reason and does not take the others with it", async () => {
    await db.query(
      "CREATE TABLE accounts (id INT PRIMARY KEY, email VARCHAR(40) NOT NULL UNIQUE, age INT CHECK (age >= 0), parent INT, code CHAR(3), FOREIGN KEY (parent) REFERENCES parent (id))",
    );
    await db.query("INSERT INTO accounts VALUES (1000, 'taken@example.com', 1, 1, 'abc')");
    const { pipeline, feed, sink, run } = pump("accounts", { columns: "id, email, age, parent, code", batch_size: 500 }, (app) => new Lenient(app, "Lenient"));
    await run.started;
    const N = 200;
    const bad: Record<number, RegExp> = {
      13: /Duplicate entry/, // the id 1000 exists
      50: /cannot be null/i, // email missing
      77: /CONSTRAINT|check/i, // negative age
      120: /foreign key constraint fails/i, // no such parent
      121: /Duplicate entry/, // email taken
      199: /Data too long/i, // code too long
    };
    const events = Array.from({ length: N }, (_, n) => ({ id: n, email: `u${n}@example.com`, age: 20, parent: 1, code: "xyz" }) as Record<string, unknown>);
    events[13]!.id = 1000;
    delete events[50]!.email;
    events[77]!.age = -5;
    events[120]!.parent = 99;
    events[121]!.email = "taken@example.com";
    events[199]!.code = "toolong";
    const { settled, context } = settlements();
    await feed.feed(events, events.map((_, n) => context(n)));
    await until(() => settled.size === N, "every event settled");
    expect(await run.stop()).toBe(0);

    const errors = (pipeline as Lenient).errors;
    expect(errors).toHaveLength(Object.keys(bad).length);
    for (const error of errors) expect(error).toBeInstanceOf(MySQLRowError);
    const byId = new Map((errors as MySQLRowError[]).map((e) => [e.row.id === 1000 ? 13 : Number(e.row.id), e]));
    for (const [n, reason] of Object.entries(bad)) {
      const error = byId.get(Number(n));
      expect(error, `row ${n} reported`).toBeDefined();
      expect(error!.reason).toMatch(reason);
      expect(error!.table).toBe("accounts");
      expect(error!.message).toContain(error!.reason);
      expect(error!.server.errno).toBeTypeOf("number");
    }
    expect(byId.get(50)!.row).toMatchObject({ id: 50, email: null });
    expect(await db.count("accounts")).toBe(1 + N - Object.keys(bad).length);
    const stored = (await db.query<{ id: number }[]>("SELECT id FROM accounts WHERE id < 1000 ORDER BY id")).map((r) => r.id);
    expect(stored).toEqual(Array.from({ length: N }, (_, n) => n).filter((n) => !(n in bad)));
    // Soft errors drop the bad events: every delivery is confirmed, none is left hanging.
    expect([...settled.values()].every((s) => s === "done")).toBe(true);
    expect(sink.stats).toMatchObject({ delivered: N - 6, rejected: 6, isolated: 1, failed: 0 });
  });

  it("with the default (hard) error handling a bad row stops the pipeline and fails its delivery; the good rows are still stored", async () => {
    await db.query("CREATE TABLE strict_rows (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL)");
    const { pipeline, feed, run } = pump("strict_rows", { columns: "id, name" });
    await run.started;
    const { settled, context } = settlements();
    const events = [{ id: 1, name: "a" }, { id: 2 }, { id: 3, name: "c" }];
    await feed.feed(events, events.map((_, n) => context(n)));
    await until(() => settled.size === 3, "every event settled");
    expect(pipeline.isError()).toBe(true);
    expect(pipeline.error?.error).toBeInstanceOf(MySQLRowError);
    expect(pipeline.error?.event).toEqual({ id: 2 });
    expect(settled.get(0)).toBe("done");
    expect(settled.get(1)).toBeInstanceOf(MySQLRowError);
    expect(settled.get(2)).toBe("done");
    expect(await run.stop()).toBe(0);
    expect(await db.query("SELECT id FROM strict_rows ORDER BY id")).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it("a statement that cannot work (no such table) fails the batch's events through the error handling", async () => {
    const { pipeline, feed, sink, run } = pump("no_such_table", { columns: "id" }, (app) => new Lenient(app, "Missing"));
    await run.started;
    await feed.feed([{ id: 1 }, { id: 2 }]);
    await until(() => (pipeline as Lenient).errors.length === 2, "both events failed");
    expect(await run.stop()).toBe(0);
    const [first] = (pipeline as Lenient).errors as MySQLDeliveryError[];
    expect(first).toBeInstanceOf(MySQLDeliveryError);
    expect(first!.server.code).toBe("ER_NO_SUCH_TABLE");
    expect(sink.stats).toMatchObject({ failed: 2, delivered: 0, isolated: 0 });
  });

  it("throttles a fast source at its high watermark, and stores everything", async () => {
    await db.query("CREATE TABLE burst (id INT PRIMARY KEY, name VARCHAR(20))");
    const app = createApp(conf());
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Burst");
    const source = new Rows(app, pipeline);
    source.total = 20000;
    const sink = new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "burst", columns: "id, name", batch_size: 200, "watermark.high": 400, "watermark.low": 200 } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    await until(() => sink.stats.delivered === 20000, "every row stored", 6000);
    expect(await run.stop()).toBe(0);
    expect(await db.count("burst")).toBe(20000);
    expect(sink.stats.throttled).toBeGreaterThan(1);
    // One batch of the source may land on top of the high watermark before the throttle takes effect.
    expect(sink.stats.maxBuffered).toBeLessThanOrEqual(400 + 100);
  });

  it("a server refusing connections at start: rows wait (the pipeline throttled once the buffer is full) and are written once it is reachable", async () => {
    await db.query("CREATE TABLE late (id INT PRIMARY KEY)");
    const { proxy, url } = await TcpProxy.to(db.url, 3306);
    const app = createApp(`[connection:MySQLConnection]\nurl=${url}\nreconnect_delay=0.05\n`);
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Late");
    const feed = new UnitTestSource<Record<string, unknown>>(app, pipeline);
    const sink = new MySQLSink(app, pipeline, "MySQLConnection", {
      config: { table: "late", columns: "id", batch_size: 50, "watermark.high": 100, "watermark.low": 50, retry_delay: 0.05, retry_delay_max: 0.2 },
    });
    pipeline.build(feed, sink);
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    const { settled, context } = settlements();
    try {
      await run.started;
      await feed.feed(
        Array.from({ length: 150 }, (_, id) => ({ id })),
        Array.from({ length: 150 }, (_, n) => context(n)),
      );
      await until(() => sink.stats.retries >= 3, "three refused attempts");
      expect(settled.size).toBe(0);
      expect(pipeline.getThrottles().has(sink)).toBe(true);
      await proxy.open();
      await until(() => settled.size === 150, "every row written");
      expect(await run.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
    expect([...settled.values()].every((s) => s === "done")).toBe(true);
    expect(await db.count("late")).toBe(150);
  });
});

import { Pipeline, Processor, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MySQLConnection, MySQLLookup, MySQLQueryError } from "../../src/index.js";
import { UnitTestSink, createApp, UnitTestSource, runApp, TestDatabase, until } from "../helpers.js";

type Order = { id: number; user: number; name?: string | undefined };

/** Enriches an order with its user's name, awaiting the lookup (an async processor). */
class Enrich extends Processor<Order, Order> {
  lookup!: MySQLLookup;
  async process(_context: Context, order: Order): Promise<Order> {
    const user = await this.lookup.get(order.user);
    return { ...order, name: user === undefined ? undefined : String(user.name) };
  }
}

describeWithServer("MySQLLookup against MariaDB", "MYSQL_URL", (serverUrl) => {
  const db = new TestDatabase(serverUrl);
  beforeAll(async () => {
    await db.create();
    await db.query("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), country CHAR(2))");
    await db.query("INSERT INTO users VALUES (1, 'Ann', 'CZ'), (2, 'Bob', 'DE'), (3, 'Cy', 'US')");
  });
  afterAll(() => db.drop());

  it("enriches events from the table, asking the server once per key (cached), and counts the rows at load", async () => {
    const app = createApp(`[connection:MySQLConnection]\nurl=${db.url}\n[lookup:Users]\nfrom=users\nkey=id\nstatement=id, name\n`);
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const lookup = app.pumpService.addLookup(new MySQLLookup(app, "MySQLConnection", { id: "Users" }));
    const pipeline = new Pipeline(app, "Enrich");
    const feed = new UnitTestSource<Order>(app, pipeline);
    const enrich = new Enrich(app, pipeline);
    enrich.lookup = lookup;
    const collect = new UnitTestSink<Order>(app, pipeline);
    pipeline.build(feed, enrich, collect);
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    await run.started;
    expect(lookup.count).toBe(3);
    const orders = Array.from({ length: 30 }, (_, id) => ({ id, user: (id % 4) + 1 })); // user 4 does not exist
    await feed.feed(orders);
    await until(() => collect.events.length === 30, "every order enriched");
    expect(collect.events.map((o) => o.name)).toEqual(orders.map((o) => ["Ann", "Bob", "Cy", undefined][o.user - 1]));
    expect(lookup.counters.misses).toBe(4);
    expect(lookup.counters.hits).toBe(26);
    expect(lookup.counters).toMatchObject({ found: 3, notFound: 1, errors: 0 });
    expect(await lookup.get(1)).toEqual({ id: 1, name: "Ann" });

    // A changed row is seen once its cached answer is gone.
    await db.query("UPDATE users SET name = 'Anna' WHERE id = 1");
    expect((await lookup.get(1))?.name).toBe("Ann");
    lookup.invalidate(1);
    expect((await lookup.get(1))?.name).toBe("Anna");
    expect(await run.stop()).toBe(0);
  });

  it("takes BSPump's query templates (%s), joins in `from`, and reports a failing query without caching it", async () => {
    await db.query("CREATE TABLE countries (code CHAR(2) PRIMARY KEY, label VARCHAR(20))");
    await db.query("INSERT INTO countries VALUES ('CZ', 'Czechia'), ('DE', 'Germany')");
    const app = createApp(`[connection:MySQLConnection]\nurl=${db.url}\n`);
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const joined = new MySQLLookup(app, "MySQLConnection", {
      id: "Joined",
      config: {
        from: "users INNER JOIN countries ON users.country = countries.code",
        key: "users.id",
        statement: "users.name, countries.label",
        query_find_one: "SELECT {} FROM {} WHERE {}=%s;",
      },
    });
    expect(joined.queryFindOne).toBe("SELECT users.name, countries.label FROM users INNER JOIN countries ON users.country = countries.code WHERE users.id=?;");
    expect(await joined.get(2)).toEqual({ name: "Bob", label: "Germany" });
    expect(await joined.get(3)).toBeUndefined(); // US is not in countries

    const broken = new MySQLLookup(app, "MySQLConnection", { id: "Broken", config: { from: "no_such_table", key: "id" } });
    await expect(broken.get(1)).rejects.toBeInstanceOf(MySQLQueryError);
    await expect(broken.get(1)).rejects.toThrow(/no_such_table/);
    expect(broken.counters).toMatchObject({ misses: 2, errors: 2 });
    await broken.load();
    expect(broken.count).toBe(-1);
    await app.pumpService.locateConnection("MySQLConnection").disconnect();
  });

  it("refuses a lookup without its table or key column", () => {
    const app = createApp();
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    expect(() => new MySQLLookup(app, "MySQLConnection", { id: "L", config: { key: "id" } })).toThrow(/\[lookup:L\] key 'from'/);
    expect(() => new MySQLLookup(app, "MySQLConnection", { id: "L", config: { from: "t" } })).toThrow(/key 'key'/);
    expect(() => new MySQLLookup(app, "MySQLConnection", { id: "L", config: { from: "t", key: "id", query_find_one: "SELECT 1" } })).toThrow(/key 'query_find_one'/);
  });
});

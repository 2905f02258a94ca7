import { Pipeline, PubSubTrigger, RunOnceTrigger, Sink, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MySQLConnection, MySQLQueryError, MySQLSink, MySQLSource, type MySQLRow } from "../../src/index.js";
import { UnitTestSink, createApp, runApp, TcpProxy, TestDatabase, until } from "../helpers.js";

/** Records the size of each batch the pipeline gets from the source. */
class ChunkedSource extends MySQLSource {
  readonly batches: number[] = [];
  override processBatch(events: readonly MySQLRow[], contexts?: readonly Context[]): Promise<void> {
    this.batches.push(events.length);
    return super.processBatch(events, contexts);
  }
}

/** A slow sink: every 50th row it waits a little, holding the pipeline (and so the source). Keeps only a count. */
class SlowCount extends Sink<MySQLRow> {
  count = 0;
  process(): void | Promise<void> {
    if (++this.count % 50 === 0) return new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describeWithServer("MySQLSource against MariaDB", "MYSQL_URL", (serverUrl) => {
  const db = new TestDatabase(serverUrl);
  beforeAll(async () => {
    await db.create();
    await db.query("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), added DATETIME)");
    // 2500 rows from MariaDB's sequence engine: more than two chunks of 1000.
    await db.query("INSERT INTO items SELECT seq, CONCAT('item ', seq), seq / 4, '2024-05-06 07:08:09' FROM seq_1_to_2500");
  });
  afterAll(() => db.drop());
  const conf = (url = db.url): string => `[connection:MySQLConnection]\nurl=${url}\nreconnect_delay=0.05\n`;

  it("streams a result bigger than a chunk: one processBatch per chunk of rows, every row once, in order", async () => {
    const app = createApp(conf());
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Read");
    const source = new ChunkedSource(app, pipeline, "MySQLConnection", { config: { query: "SELECT id, name, price, added FROM items ORDER BY id", chunk_size: 1000 } });
    const collect = new UnitTestSink<MySQLRow>(app, pipeline);
    pipeline.build(source.on(new RunOnceTrigger(app)), collect);
    app.pumpService.addPipeline(pipeline);
    expect(await runApp(app).done).toBe(0); // RunOnceTrigger: one cycle, then the application stops
    expect(source.batches).toEqual([1000, 1000, 500]);
    expect(source.stats).toEqual({ cycles: 1, rows: 2500, chunks: 3 });
    expect(collect.events).toHaveLength(2500);
    expect(collect.events.map((row) => row.id)).toEqual(Array.from({ length: 2500 }, (_, n) => n + 1));
    expect(collect.events[9]).toMatchObject({ id: 10, name: "item 10", price: "2.50" });
    expect((collect.events[9]!.added as Date).getFullYear()).toBe(2024);
  });

  it("reads only as fast as a slow sink takes the rows: the source never holds much more than a chunk, whatever the result's size", async () => {
    const app = createApp(conf());
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Slow");
    const chunk = 500;
    const N = 100_000;
    // 100 000 rows of 1 kB each (about 100 MB): nothing of the kind may pile up in the pump.
    const source = new MySQLSource(app, pipeline, "MySQLConnection", { config: { query: `SELECT seq AS id, REPEAT('x', 1000) AS pad FROM seq_1_to_${N}`, chunk_size: chunk } });
    const sink = new SlowCount(app, pipeline);
    pipeline.build(source.on(new RunOnceTrigger(app)), sink);
    app.pumpService.addPipeline(pipeline);
    let maxBuffered = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    let maxHeap = heapBefore;
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, source.buffered);
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
    }, 1);
    try {
      expect(await runApp(app).done).toBe(0);
    } finally {
      clearInterval(sampler);
    }
    expect(sink.count).toBe(N);
    console.log(`[mysql stream] ${N} rows of 1 kB, chunk ${chunk}: at most ${maxBuffered} rows held by the source; heap grew by at most ${Math.round((maxHeap - heapBefore) / 1e6)} MB`);
    // The stream's buffer (a chunk) plus the chunk being filled, plus what one socket read holds.
    expect(maxBuffered).toBeLessThanOrEqual(3 * chunk);
    expect(maxHeap - heapBefore).toBeLessThan(60e6);
  });

  it("a server refusing connections when the cycle begins is waited for; the rows flow once it is reachable (MySQLSource → MySQLSink)", async () => {
    await db.query("CREATE TABLE copies (id INT PRIMARY KEY, name VARCHAR(20))");
    const { proxy, url } = await TcpProxy.to(db.url, 3306);
    const app = createApp(conf(url));
    const connection = app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Copy");
    const trigger = new PubSubTrigger(app, "copy!");
    const source = new MySQLSource(app, pipeline, "MySQLConnection", { config: { query: "SELECT id, name FROM items", chunk_size: 300 } });
    const sink = new MySQLSink(app, pipeline, "MySQLConnection", { config: { table: "copies", columns: "id, name" } });
    pipeline.build(source.on(trigger), sink);
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    try {
      await run.started;
      app.pubsub.publish("copy!");
      await until(() => connection.stats.connectFailures >= 3, "three refused connection attempts");
      // The cycle waits for the server; nothing was read, and nothing failed.
      expect(source.triggered).toBe(true);
      expect(source.stats.rows).toBe(0);
      expect(pipeline.isError()).toBe(false);
      await proxy.open();
      await until(() => source.stats.cycles === 1 && sink.stats.delivered === 2500, "the copy");
      expect(await run.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
    expect(await db.count("copies")).toBe(2500);
    expect(pipeline.isError()).toBe(false);
  });

  it("a failing query ends the cycle with a MySQLQueryError through the pipeline's error handling", async () => {
    const app = createApp(conf());
    app.pumpService.addConnection(new MySQLConnection(app, "MySQLConnection"));
    const pipeline = new Pipeline(app, "Bad");
    const source = new MySQLSource(app, pipeline, "MySQLConnection", { config: { query: "SELECT * FROM no_such_table" } });
    pipeline.build(source.on(new PubSubTrigger(app, "go!")), new UnitTestSink(app, pipeline));
    app.pumpService.addPipeline(pipeline);
    const run = runApp(app);
    await run.started;
    app.pubsub.publish("go!");
    await until(() => pipeline.isError(), "the pipeline error");
    expect(await run.stop()).toBe(0);
    const error = pipeline.error!.error as MySQLQueryError;
    expect(error).toBeInstanceOf(MySQLQueryError);
    expect(error.server.code).toBe("ER_NO_SUCH_TABLE");
    expect(error.message).toContain("no_such_table");
  });
});

import { describeWithServer } from "@pump/test-servers/vitest";
import { Pipeline, Processor, type Context } from "@pump/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ElasticSearchConnection } from "../../src/connection.js";
import { ElasticSearchRequestError } from "../../src/errors.js";
import { ElasticSearchLookup } from "../../src/lookup.js";
import { UnitTestSink, createApp, deleteIndices, UnitTestSource, testClient, uniqueIndex, until } from "../helpers.js";

type Doc = Record<string, unknown>;

describeWithServer("ElasticSearchLookup against the node", "ES_URL", (url) => {
  const client = testClient(url);
  const index = uniqueIndex("lookup");

  beforeAll(async () => {
    await client.cluster.health({ wait_for_status: "yellow", timeout: "30s" });
    await client.indices.create({ index, mappings: { properties: { user: { type: "keyword" }, name: { type: "text" }, dept: { type: "keyword" }, active: { type: "boolean" } } } });
    const operations = Array.from({ length: 50 }, (_, i) => [{ index: { _index: index, _id: `id-${i}` } }, { user: `u${i}`, name: `User Number ${i}`, dept: i % 2 === 0 ? "ops" : "dev", active: i % 5 !== 0 }]).flat();
    await client.bulk({ operations, refresh: true });
  });

  afterAll(async () => {
    await deleteIndices(client, index);
    await client.close();
  });

  function setup(config: Record<string, string | number>) {
    const app = createApp();
    const connection = new ElasticSearchConnection(app, "ES", { config: { url } });
    app.pumpService.addConnection(connection);
    const lookup = new ElasticSearchLookup(app, "ES", { id: "Users", config: { index, ...config } });
    app.pumpService.addLookup(lookup);
    return { app, connection, lookup };
  }

  it("by key: hits give the document, misses undefined; answers are cached, concurrent gets share one request", async () => {
    const { connection, lookup } = setup({ key: "user" });
    await connection.connect();
    try {
      expect(await lookup.get("u7")).toEqual({ user: "u7", name: "User Number 7", dept: "dev", active: true });
      expect(await lookup.get("nobody")).toBeUndefined();
      expect(lookup.counters).toMatchObject({ hits: 0, misses: 2, found: 1, notFound: 1 });

      // Deleted in Elasticsearch, still answered from the cache (cache_ttl 60 s by default).
      await client.delete({ index, id: "id-7", refresh: true });
      expect(await lookup.get("u7")).toMatchObject({ user: "u7" });
      expect(await lookup.get("nobody")).toBeUndefined();
      expect(lookup.counters).toMatchObject({ hits: 2, misses: 2 });

      const answers = await Promise.all([lookup.get("u8"), lookup.get("u8"), lookup.get("u8")]);
      expect(answers.map((a) => a?.user)).toEqual(["u8", "u8", "u8"]);
      expect(lookup.counters).toMatchObject({ misses: 3, coalesced: 2 });
      expect(await lookup.count()).toBe(49);

      // After invalidation the next get asks Elasticsearch again and sees the deletion.
      lookup.invalidate("u7");
      expect(await lookup.get("u7")).toBeUndefined();
    } finally {
      await connection.disconnect();
    }
  });

  it("an expired entry is asked again (cache_ttl, cache_miss_ttl)", async () => {
    const { connection, lookup } = setup({ key: "user", cache_ttl: "300ms", cache_miss_ttl: "300ms" });
    await connection.connect();
    try {
      expect(await lookup.get("u9")).toMatchObject({ user: "u9" });
      expect(await lookup.get("u9")).toMatchObject({ user: "u9" });
      expect(lookup.counters).toMatchObject({ hits: 1, misses: 1 });
      await client.update({ index, id: "id-9", doc: { dept: "sales" }, refresh: true });
      await until(async () => (await lookup.get("u9"))?.dept === "sales", "the entry to expire and be fetched again", 100, 100);
      expect(lookup.counters.misses).toBeGreaterThanOrEqual(2);
    } finally {
      await connection.disconnect();
    }
  });

  it("by _id, and by a query template with {{key}}", async () => {
    const byId = setup({ key: "_id" });
    const byQuery = setup({ query: JSON.stringify({ bool: { filter: [{ term: { user: "{{key}}" } }, { term: { active: true } }] } }) });
    await byId.connection.connect();
    await byQuery.connection.connect();
    try {
      expect(await byId.lookup.get("id-3")).toMatchObject({ user: "u3" });
      expect(await byId.lookup.get("u3")).toBeUndefined();
      expect(await byQuery.lookup.get("u3")).toMatchObject({ user: "u3", active: true });
      expect(await byQuery.lookup.get("u5")).toBeUndefined(); // inactive
    } finally {
      await byId.connection.disconnect();
      await byQuery.connection.disconnect();
    }
  });

  it("a failed request rejects the get and is not cached", async () => {
    const { connection, lookup } = setup({ key: "user", index: `${index}-missing` });
    await connection.connect();
    try {
      const failure = await lookup.get("u1").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ElasticSearchRequestError);
      expect(failure).toMatchObject({ status: 404, type: "index_not_found_exception", retryable: false });
      await expect(lookup.get("u1")).rejects.toThrow(/index_not_found_exception/);
      expect(lookup.counters).toMatchObject({ errors: 2, hits: 0 });
    } finally {
      await connection.disconnect();
    }
  });

  it("enriches events in a pipeline from an async processor", async () => {
    const { app, connection, lookup } = setup({ key: "user" });
    class Enrich extends Processor<Doc, Doc> {
      async process(_context: Context, event: Doc): Promise<Doc> {
        const user = await lookup.get(event.user as string);
        return { ...event, dept: user?.dept ?? "unknown" };
      }
    }
    const pipeline = new Pipeline(app, "Enrich");
    const source = new UnitTestSource<Doc>(app, pipeline);
    const sink = new UnitTestSink<Doc>(app, pipeline);
    pipeline.build(source, new Enrich(app, pipeline), sink);
    await connection.connect();
    await pipeline.start();
    try {
      await source.feed([{ user: "u2" }, { user: "u3" }, { user: "ghost" }, { user: "u2" }]);
      await until(() => sink.events.length === 4, "four events enriched");
      expect(sink.events).toEqual([
        { user: "u2", dept: "ops" },
        { user: "u3", dept: "dev" },
        { user: "ghost", dept: "unknown" },
        { user: "u2", dept: "ops" },
      ]);
      expect(lookup.counters).toMatchObject({ hits: 1, misses: 3 });
    } finally {
      await pipeline.stop();
      await connection.disconnect();
    }
  });
});

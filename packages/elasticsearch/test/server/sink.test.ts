// oxlint-disable no-underscore-dangle -- Elasticsearch's field names (_id, _index, _source, _scroll_id)
import { describeWithServer } from "@pump/test-servers/vitest";
import { Pipeline, type ConfigValues, type Context, type PumpApplication } from "@pump/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ElasticSearchConnection } from "../../src/connection.js";
import type { DataFeeder } from "../../src/data-feeder.js";
import { ElasticSearchItemError } from "../../src/errors.js";
import { ElasticSearchSink } from "../../src/sink.js";
import { UnitTestSink, createApp, deleteIndices, GeneratedSource, readAll, SoftPipeline, testClient, tracker, uniqueIndex, until } from "../helpers.js";

type Doc = Record<string, unknown>;

const feeder: DataFeeder = (doc, id) => `{"index":{"_id":${JSON.stringify(id)}}}\n${JSON.stringify({ ...doc, fed: true })}\n`;

interface Run {
  app: PumpApplication;
  pipeline: Pipeline;
  connection: ElasticSearchConnection;
  sink: ElasticSearchSink;
  source: GeneratedSource<Doc>;
  settled: ReturnType<typeof tracker>;
}

/** Source → ElasticSearchSink on a pipeline of its own; resolves once every event settled and the pipeline stopped. */
async function runSink(
  url: string,
  events: Doc[],
  sinkConfig: ConfigValues,
  options: { connection?: ConfigValues; pipeline?: (app: PumpApplication) => Pipeline; contexts?: (i: number) => Context; dataFeeder?: DataFeeder; stop?: boolean } = {},
): Promise<Run> {
  const app = createApp();
  const connection = new ElasticSearchConnection(app, "ES", { config: { url, max_bulk_age: 0.1, bulk_out_max_size: 256 * 1024, ...options.connection } });
  app.pumpService.addConnection(connection);
  const pipeline = options.pipeline?.(app) ?? new Pipeline(app, "SinkPipeline");
  const settled = tracker();
  const source = new GeneratedSource<Doc>(app, pipeline);
  source.count = events.length;
  source.make = (i) => events[i]!;
  source.track = (i) => ({ ...options.contexts?.(i), ...settled.track(i) });
  const sink = new ElasticSearchSink(app, pipeline, "ES", { config: sinkConfig, dataFeeder: options.dataFeeder });
  pipeline.build(source, sink);
  await connection.connect();
  await pipeline.start();
  await until(() => source.finished && settled.settledCount() === events.length, "every event settled");
  if (options.stop !== false) {
    await pipeline.stop();
    await connection.disconnect();
  }
  return { app, pipeline, connection, sink, source, settled };
}

describeWithServer("ElasticSearchSink against the node", "ES_URL", (url) => {
  const client = testClient(url);
  const prefix = uniqueIndex("sink");

  beforeAll(async () => {
    await client.cluster.health({ wait_for_status: "yellow", timeout: "30s" });
  });

  afterAll(async () => {
    await deleteIndices(client, `${prefix}-*`);
    await client.close();
  });

  it("create_or_index: 12 000 events, with and without _id, all stored as sent and confirmed", async () => {
    const index = `${prefix}-coi`;
    const events = Array.from({ length: 12_000 }, (_, i) => (i % 2 === 0 ? { _id: `k${i}`, n: i, tag: "with-id", nested: { a: [i, i + 1], s: "x" } } : { n: i, tag: "auto-id" }));
    const { settled, sink } = await runSink(url, events, { index });
    expect(settled.failed.size).toBe(0);
    expect(settled.done.size).toBe(12_000);
    expect(sink.stats).toMatchObject({ taken: 12_000, confirmed: 12_000, rejected: 0, abandoned: 0 });
    const docs = await readAll(client, index);
    expect(docs.size).toBe(12_000);
    for (let i = 0; i < 12_000; i += 2) expect(docs.get(`k${i}`)).toEqual({ n: i, tag: "with-id", nested: { a: [i, i + 1], s: "x" } });
    const auto = [...docs.values()].filter((d) => d.tag === "auto-id").map((d) => d.n as number);
    expect(auto.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 6000 }, (_, k) => 2 * k + 1));
    // The events themselves keep their _id (the sink copies, it does not pop).
    expect(events[0]).toHaveProperty("_id", "k0");
  });

  it("create, index, update, upsert and delete, each chosen per sink, on 10 000 documents", async () => {
    const index = `${prefix}-crud`;
    const n = 10_000;
    let run = await runSink(url, Array.from({ length: n }, (_, i) => ({ _id: i, n: i, v: "created" })), { index, data_feeder: "create" });
    expect(run.settled.done.size).toBe(n);
    let docs = await readAll(client, index);
    expect(docs.size).toBe(n);
    expect(docs.get("1234")).toEqual({ n: 1234, v: "created" });

    // index replaces every second document
    run = await runSink(url, Array.from({ length: n / 2 }, (_, k) => ({ _id: String(2 * k), n: 2 * k, v: "indexed" })), { index, data_feeder: "index" });
    expect(run.settled.done.size).toBe(n / 2);

    // update merges a field into every document
    run = await runSink(url, Array.from({ length: n }, (_, i) => ({ _id: String(i), extra: i * 2 })), { index, data_feeder: "update" });
    expect(run.settled.done.size).toBe(n);
    expect(run.settled.failed.size).toBe(0);

    // upsert: 10 existing and 10 new
    run = await runSink(url, Array.from({ length: 20 }, (_, k) => ({ _id: String(n - 10 + k), v: "upserted" })), { index, data_feeder: "upsert" });
    expect(run.settled.done.size).toBe(20);

    docs = await readAll(client, index);
    expect(docs.size).toBe(n + 10);
    for (let i = 0; i < n - 10; i++) expect(docs.get(String(i))).toEqual({ n: i, v: i % 2 === 0 ? "indexed" : "created", extra: i * 2 });
    expect(docs.get(String(n - 1))).toEqual({ n: n - 1, v: "upserted", extra: (n - 1) * 2 });
    expect(docs.get(String(n + 9))).toEqual({ v: "upserted" });

    // delete the first half (and one id that does not exist: deleting it is done, not an error)
    run = await runSink(url, [...Array.from({ length: n / 2 }, (_, i) => ({ _id: String(i) })), { _id: "no-such-document" }], { index, data_feeder: "delete" });
    expect(run.settled.done.size).toBe(n / 2 + 1);
    expect(run.settled.failed.size).toBe(0);
    docs = await readAll(client, index);
    expect(docs.size).toBe(n / 2 + 10);
    expect(docs.has("0")).toBe(false);
    expect(docs.has(String(n / 2))).toBe(true);
  });

  it("context.es_index routes events to other indices; a feeder of your own is used as given", async () => {
    const base = `${prefix}-route`;
    const events = Array.from({ length: 300 }, (_, i) => ({ _id: String(i), n: i }));
    const { settled } = await runSink(url, events, { index: `${base}-default` }, { contexts: (i) => (i % 3 === 0 ? { es_index: `${base}-other` } : {}), dataFeeder: feeder });
    expect(settled.done.size).toBe(300);
    const other = await readAll(client, `${base}-other`);
    const fallback = await readAll(client, `${base}-default`);
    expect(other.size).toBe(100);
    expect(fallback.size).toBe(200);
    expect(other.get("3")).toEqual({ n: 3, fed: true });
  });

  it("mapping conflicts: each bad item reported with its reason through soft error handling; the good items of the same bulks stored", async () => {
    const index = `${prefix}-mapping`;
    await client.indices.create({ index, mappings: { properties: { n: { type: "integer" }, when: { type: "date" } } } });
    const events = Array.from({ length: 2000 }, (_, i) => (i % 100 === 7 ? { _id: String(i), n: `not a number ${i}` } : { _id: String(i), n: i }));
    let pipeline: SoftPipeline | undefined;
    const { settled, sink } = await runSink(url, events, { index }, { pipeline: (app) => (pipeline = new SoftPipeline(app, "Soft")) });
    expect(settled.failed.size).toBe(0); // soft errors drop the event: its delivery is done
    expect(settled.done.size).toBe(2000);
    expect(sink.stats.rejected).toBe(20);
    expect(pipeline!.errors).toHaveLength(20);
    const first = pipeline!.errors[0]!;
    expect(first.error).toBeInstanceOf(ElasticSearchItemError);
    const error = first.error as ElasticSearchItemError;
    expect(error.status).toBe(400);
    expect(error.type).toMatch(/parsing_exception/);
    expect(error.reason).toMatch(/\[n\]/);
    expect(error.id).toBe((first.event as Doc)._id);
    expect(pipeline!.metricsSnapshot().warning).toBe(20);
    const docs = await readAll(client, index);
    expect(docs.size).toBe(1980);
    expect(docs.has("7")).toBe(false);
    expect(docs.get("8")).toEqual({ n: 8 });
  });

  it("a rejected item is a hard error by default: the pipeline stops and that event's delivery fails; the others are confirmed", async () => {
    const index = `${prefix}-hard`;
    await client.indices.create({ index, mappings: { properties: { n: { type: "integer" } } } });
    const events = Array.from({ length: 50 }, (_, i) => ({ _id: String(i), n: i === 25 ? "bad" : i }));
    const run = await runSink(url, events, { index }, { stop: false });
    expect(run.settled.done.size).toBe(49);
    expect([...run.settled.failed.keys()]).toEqual([25]);
    expect(run.settled.failed.get(25)).toBeInstanceOf(ElasticSearchItemError);
    expect(run.pipeline.isError()).toBe(true);
    expect((run.pipeline.error!.error as ElasticSearchItemError).reason).toMatch(/\[n\]/);
    run.pipeline.clearError();
    await run.pipeline.stop();
    await run.connection.disconnect();
  });

  it("an error route receives the rejected events with Elasticsearch's reason in the context; a create of an existing _id is a version conflict", async () => {
    const index = `${prefix}-route-errors`;
    await client.index({ index, id: "taken", document: { n: -1 }, refresh: true });
    let errors: UnitTestSink<Doc> | undefined;
    const events = Array.from({ length: 10 }, (_, i) => ({ _id: i === 4 ? "taken" : String(i), n: i }));
    const run = await runSink(url, events, { index, data_feeder: "create" }, {
      pipeline: (app) => {
        const pipeline = new Pipeline(app, "Routed");
        errors = new UnitTestSink<Doc>(app, pipeline, { id: "Errors" });
        pipeline.setErrorRoute(errors);
        return pipeline;
      },
    });
    expect(run.settled.done.size).toBe(10);
    expect(errors!.events).toEqual([{ _id: "taken", n: 4 }]);
    const routed = errors!.contexts[0]!;
    expect(routed.error_component).toBe("ElasticSearchSink");
    expect(routed.error).toBeInstanceOf(ElasticSearchItemError);
    expect((routed.error as ElasticSearchItemError).status).toBe(409);
    expect((routed.error as ElasticSearchItemError).type).toBe("version_conflict_engine_exception");
    const docs = await readAll(client, index);
    expect(docs.get("taken")).toEqual({ n: -1 });
    expect(docs.size).toBe(10);
  });

  it("events that are no documents are errors of the sink at once, with the reason", async () => {
    const index = `${prefix}-bad-events`;
    let pipeline: SoftPipeline | undefined;
    const events = [{ _id: "a", n: 1 }, [1, 2] as unknown as Doc, { _id: { nested: true }, n: 2 }, { _id: "b", big: 10n } as Doc, { _id: "c", n: 3 }];
    const { settled } = await runSink(url, events, { index }, { pipeline: (app) => (pipeline = new SoftPipeline(app, "Soft")) });
    expect(settled.done.size).toBe(5);
    expect(pipeline!.errors.map((e) => String((e.error as Error).message))).toEqual([
      expect.stringMatching(/takes objects, got an array/),
      expect.stringMatching(/_id must be a string or a number/),
      expect.stringMatching(/cannot make a bulk item.*BigInt/i),
    ]);
    const docs = await readAll(client, index);
    expect([...docs.keys()].toSorted()).toEqual(["a", "c"]);
  });
});

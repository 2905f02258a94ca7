import vm from "node:vm";
import v8 from "node:v8";
import { describeWithServer } from "@pump/test-servers/vitest";
import { Pipeline, type ConfigValues } from "@pump/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ElasticSearchConnection } from "../../src/connection.js";
import { ElasticSearchSink } from "../../src/sink.js";
import { createApp, deleteIndices, elasticsearchService, GeneratedSource, readAll, testClient, tracker, uniqueIndex, until } from "../helpers.js";

type Doc = Record<string, unknown>;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function rig(url: string, index: string, connectionConfig: ConfigValues, count: number, make: (i: number) => Doc) {
  const app = createApp();
  const connection = new ElasticSearchConnection(app, "ES", { config: { url, ...connectionConfig } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "FaultPipeline");
  const settled = tracker();
  const source = new GeneratedSource<Doc>(app, pipeline);
  source.count = count;
  source.make = make;
  source.track = settled.track;
  const sink = new ElasticSearchSink(app, pipeline, "ES", { config: { index, data_feeder: "index" } });
  pipeline.build(source, sink);
  return { app, connection, pipeline, source, sink, settled };
}

describeWithServer("ElasticSearchSink when the node is slow, down or restarted", "ES_URL", (url) => {
  const client = testClient(url);
  const prefix = uniqueIndex("faults");

  beforeAll(async () => {
    await client.cluster.health({ wait_for_status: "yellow", timeout: "30s" });
  });

  afterAll(async () => {
    // Whatever happened, leave the node up for the next suites.
    const status = await elasticsearchService("status");
    if (!status.ok) {
      const up = await elasticsearchService("up");
      if (!up.ok) throw new Error(`could not start Elasticsearch again:\n${up.output}`);
    }
    await client.cluster.health({ wait_for_status: "yellow", timeout: "60s" });
    await deleteIndices(client, `${prefix}-*`);
    await client.close();
  });

  it("a full output queue throttles the pipeline: bytes and events held stay bounded while 200 000 events pass", async () => {
    const index = `${prefix}-throttle`;
    const maxBulk = 64 * 1024;
    const text = "x".repeat(200);
    const r = rig(url, index, { loader_per_url: 1, output_queue_max_size: 2, bulk_out_max_size: maxBulk, max_bulk_age: 0.05 }, 200_000, (i) => ({ _id: String(i), n: i, text }));
    r.source.batchSize = 1000;
    let maxBytes = 0;
    let maxPending = 0;
    let throttledSeen = false;
    const heap: number[] = [];
    const sampler = setInterval(() => {
      maxBytes = Math.max(maxBytes, r.connection.bulks.bytes);
      maxPending = Math.max(maxPending, r.sink.pending);
      if (r.pipeline.getThrottles().has(r.sink)) throttledSeen = true;
    }, 5);
    const marks = [20_000, 100_000, 190_000];
    await r.connection.connect();
    await r.pipeline.start();
    try {
      for (const mark of marks) {
        await until(() => r.source.produced >= mark, `${mark} events produced`);
        gc();
        heap.push(process.memoryUsage().heapUsed);
      }
      await until(() => r.source.finished && r.settled.settledCount() === 200_000, "every event settled");
    } finally {
      clearInterval(sampler);
      await r.pipeline.stop();
      await r.connection.disconnect();
    }
    expect(r.settled.failed.size).toBe(0);
    expect(throttledSeen).toBe(true);
    expect(r.sink.stats.throttled).toBeGreaterThan(0);
    // Open + queued + in flight bulks, plus at most one source batch taken after the throttle went on.
    const batchBytes = 1000 * (text.length + 100);
    expect(maxBytes).toBeLessThanOrEqual((2 + 1 + 1) * maxBulk + batchBytes);
    expect(maxPending).toBeLessThan(5000);
    // Memory stays flat: unbounded, the 170 000 events between the first and the last mark would hold ~100 MB.
    expect(heap[2]! - heap[0]!).toBeLessThan(24 * 1024 * 1024);
    await client.indices.refresh({ index });
    const count = await client.count({ index });
    expect(count.count).toBe(200_000);
  });

  it("Elasticsearch down at start: the sink holds the events, throttles, and delivers them all once the node is up", async () => {
    const index = `${prefix}-down`;
    const stopped = await elasticsearchService("stop");
    expect(stopped.ok, stopped.output).toBe(true);
    // 20 000 events make ~16 bulks: 4 loaders hold one each, the queue of 3 fills.
    const count = 20_000;
    const r = rig(url, index, { output_queue_max_size: 3, bulk_out_max_size: 32 * 1024, max_bulk_age: 0.1, retry_backoff: 0.2, retry_backoff_max: 2 }, count, (i) => ({ _id: String(i), n: i }));
    await r.connection.connect();
    await r.pipeline.start();
    try {
      await until(() => r.pipeline.getThrottles().has(r.sink), "the sink to throttle its pipeline");
      expect(r.settled.settledCount()).toBe(0);
      expect(r.source.finished).toBe(false);
      expect(r.connection.bulks.stats.requestFailures).toBeGreaterThan(0);
      const up = await elasticsearchService("up");
      expect(up.ok, up.output).toBe(true);
      await until(() => r.source.finished && r.settled.settledCount() === count, "every event settled");
    } finally {
      await r.pipeline.stop();
      await r.connection.disconnect();
    }
    expect(r.settled.failed.size).toBe(0);
    const docs = await readAll(client, index);
    expect(docs.size).toBe(count);
    for (let i = 0; i < count; i++) expect(docs.get(String(i))).toEqual({ n: i });
  });

  it("Elasticsearch restarted mid-stream: the sink waits, retries, and loses nothing", async () => {
    const index = `${prefix}-restart`;
    const count = 40_000;
    const r = rig(url, index, { output_queue_max_size: 4, bulk_out_max_size: 128 * 1024, max_bulk_age: 0.1, retry_backoff: 0.2, retry_backoff_max: 2 }, count, (i) => ({ _id: String(i), n: i, even: i % 2 === 0 }));
    r.source.batchSize = 250;
    r.source.pauseMs = 20;
    await r.connection.connect();
    await r.pipeline.start();
    try {
      await until(() => r.settled.done.size >= 5000, "5000 events confirmed before the restart");
      const stopped = await elasticsearchService("stop");
      expect(stopped.ok, stopped.output).toBe(true);
      const producedWhileDown = r.source.produced;
      await until(() => r.pipeline.getThrottles().has(r.sink), "the sink to throttle while the node is down");
      const up = await elasticsearchService("up");
      expect(up.ok, up.output).toBe(true);
      expect(r.source.produced).toBeLessThan(count); // the stream was still going on
      expect(producedWhileDown).toBeLessThan(count);
      await until(() => r.source.finished && r.settled.settledCount() === count, "every event settled");
    } finally {
      await r.pipeline.stop();
      await r.connection.disconnect();
    }
    expect(r.settled.failed.size).toBe(0);
    expect(r.settled.done.size).toBe(count);
    expect(r.connection.bulks.stats.requestFailures).toBeGreaterThan(0);
    const docs = await readAll(client, index);
    expect(docs.size).toBe(count);
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => docs.get(String(i))?.n !== i);
    expect(missing).toEqual([]);
  });
});

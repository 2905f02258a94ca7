// oxlint-disable no-underscore-dangle -- Elasticsearch's _id
// The Elasticsearch connector: N seeded documents (W1's ~250-byte records, each with an `_id`)
// indexed into a fresh index per run. Baseline: @elastic/elasticsearch's `client.helpers.bulk`.
// Pump: a generator source → ElasticSearchSink; the pipeline stops after the last document, once
// Elasticsearch confirmed every item, so every event's delivery has settled. Both send 2 MiB bulks,
// 4 at a time. After the clock stopped, both read back the index's count and the sum of `id`
// (= `_id`), and drop the index.
import { Client } from "@elastic/elasticsearch";
import { Pipeline } from "@pump/core";
import { ElasticSearchConnection, ElasticSearchSink } from "@pump/elasticsearch";
import { SEED } from "../../config.ts";
import { Prng } from "../../prng.ts";
import { createApp } from "../../pump.ts";
import type { Params, Row, RunOutput, Verdict, Workload } from "../../workload.ts";
import { makeRecord } from "../ndjson.ts";
import { runSeeded } from "./seeded-source.ts";

type Doc = ReturnType<typeof makeRecord>;

const INDEX_PREFIX = "pump-bench-es-";
/**
 * Bulk bytes and requests in flight, the same for both. Not the connection's 12 MiB default: four
 * 12 MiB bulks at once exceed the indexing pressure limit of the rig's 512 MiB-heap node (10% of the
 * heap), which answers 429 to whole requests (the helper gives up, the connection backs off).
 */
const BULK_BYTES = 2 * 1024 * 1024;
const CONCURRENCY = 4;
/** Only what settling each item needs, as the connection asks for it. */
const FILTER_PATH = "errors,items.*.status,items.*.error";

function url(): string {
  const value = process.env.ES_URL;
  if (value === undefined || value === "") throw new Error("ES_URL is not set");
  return value;
}

/** A fresh index: one shard, no replica (one node), no periodic refresh (the check refreshes), strict mapping. */
async function createIndex(client: Client, variant: string): Promise<string> {
  const index = `${INDEX_PREFIX}${variant}-${process.pid}-${Date.now()}`;
  await client.indices.create({
    index,
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: "-1" },
    mappings: {
      dynamic: "strict",
      properties: {
        id: { type: "long" },
        ts: { type: "date" },
        host: { type: "keyword" },
        user: { type: "keyword" },
        action: { type: "keyword" },
        status: { type: "short" },
        bytes: { type: "integer" },
        latency_ms: { type: "float" },
        path: { type: "keyword" },
        ua: { type: "keyword" },
        tags: { type: "keyword" },
      },
    },
  });
  return index;
}

/** After the clock: refresh, count and sum the ids that reached the index, then drop it. */
function readBack(client: Client, index: string): RunOutput["after"] {
  return async () => {
    try {
      await client.indices.refresh({ index });
      const answer = await client.search({ index, size: 0, track_total_hits: true, aggs: { ids: { sum: { field: "id" } } } });
      const total = answer.hits.total;
      const count = typeof total === "number" ? total : (total?.value ?? 0);
      const sum = (answer.aggregations?.ids as { value: number } | undefined)?.value ?? 0;
      return { check: `${count}/${sum}`, extra: { indexed: count } };
    } finally {
      await client.indices.delete({ index }, { ignore: [404] });
      await client.close();
    }
  };
}

/** The documents, seeded: every variant and run generates the same ones in the same order. */
function* documents(total: number): Generator<Doc> {
  const prng = new Prng(SEED);
  for (let i = 0; i < total; i++) yield makeRecord(prng, i);
}

/** The documents with their `_id`, as the sink takes them. */
function* identified(total: number): Generator<Doc> {
  for (const doc of documents(total)) {
    doc._id = String(doc.id);
    yield doc;
  }
}

/** The helper takes an async iterator (it awaits each document anyway). */
async function* asyncDocuments(total: number): AsyncGenerator<Doc> {
  yield* documents(total);
}

async function baseline(params: Params): Promise<RunOutput> {
  const total = params.events as number;
  const client = new Client({ node: url() });
  const index = await createIndex(client, "baseline");
  const dropped: string[] = [];
  const stats = await client.helpers.bulk<Doc>({
    datasource: asyncDocuments(total),
    onDocument: (doc) => ({ index: { _index: index, _id: String(doc.id) } }),
    onDrop: (drop) => dropped.length < 5 && dropped.push(`${drop.status} ${JSON.stringify(drop.error)}`),
    flushBytes: BULK_BYTES,
    concurrency: CONCURRENCY,
    filter_path: FILTER_PATH,
  });
  return {
    events: stats.successful,
    bytes: stats.bytes,
    extra: { failed: stats.failed, retried: stats.retry, dropped, index },
    after: readBack(client, index),
  };
}

async function pump(params: Params): Promise<RunOutput> {
  const total = params.events as number;
  const client = new Client({ node: url() });
  const index = await createIndex(client, "pump");
  const app = createApp();
  const connection = new ElasticSearchConnection(app, "ESConnection", { config: { url: url(), bulk_out_max_size: BULK_BYTES, loader_per_url: CONCURRENCY } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "Bench");
  const sink = new ElasticSearchSink(app, pipeline, connection, { config: { index, data_feeder: "index" } });
  // Once the source made the last document the pipeline stops, as an application would: the sink
  // sends its open bulk and waits until Elasticsearch confirmed every item (rather than waiting for
  // `max_bulk_age` to send it); every delivery has settled by then.
  const t = await runSeeded(app, pipeline, sink, identified(total), total, "produced");
  return {
    events: sink.stats.confirmed,
    extra: { settled: t.settled(), failed: t.failed(), rejected: sink.stats.rejected, throttled: sink.stats.throttled, retried: connection.bulks.stats.retried, requests: connection.bulks.stats.requests, index },
    after: readBack(client, index),
  };
}

/** Drops the indices a run that died left behind (by name: Elasticsearch refuses wildcard deletes). */
async function dropLeftovers(): Promise<void> {
  const client = new Client({ node: url() });
  try {
    const left = await client.cat.indices({ index: `${INDEX_PREFIX}*`, format: "json", h: "index" });
    for (const { index } of left) if (index !== undefined) await client.indices.delete({ index }, { ignore: [404] });
  } finally {
    await client.close();
  }
}

export const elasticsearch: Workload = {
  id: "elasticsearch",
  title: "pump → Elasticsearch bulk",
  description:
    "N seeded documents (W1's records, ~250 B of JSON, `_id` = their `id`) indexed into a fresh index per run (1 shard, no replica, refresh off, strict mapping). Baseline: `client.helpers.bulk` (@elastic/elasticsearch 8.19) with 2 MiB bulks and 4 requests in flight. Pump: a source making the documents in batches of 1024, each with a tracked delivery → ElasticSearchSink (`data_feeder=index`; the connection with the same 2 MiB bulks and 4 loaders); after the last document the pipeline stops: the sink sends its open bulk and waits until every item was confirmed and every delivery settled. After the clock: refresh, `_count` and the sum of `id` read back, index deleted.",
  requires: "ES_URL",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "helpers.bulk", pump: "ElasticSearchSink" },
  // ~17–30 k documents/s on the rig's node (2 cores shared with the client): 500 k keep a run at
  // 20–40 s, well within two minutes, and a three-round run with both variants at about 3 minutes.
  events: 500_000,
  prepare: async () => {
    await dropLeftovers();
    return {};
  },
  cleanup: dropLeftovers,
  run: async (variant, params) => (variant === "baseline" ? baseline(params) : pump(params)),
  judge: (row: Row): Verdict => {
    const indexed = row.extra.indexed as number | undefined;
    const settled = row.extra.settled as number | undefined;
    const failed = row.extra.failed as number | undefined;
    const notes: string[] = [];
    const complete = indexed === row.events && settled === row.events && failed === 0;
    if (!complete) notes.push(`confirmed ${row.events}, indexed ${indexed}, deliveries settled ${settled}, failed ${failed}`);
    const fast = row.ratio !== null && row.ratio >= 0.85;
    if (!fast) notes.push(`ratio ${row.ratio?.toFixed(2)} < 0.85`);
    return { target: "≥0.85×", pass: complete && fast, notes };
  },
};

// pump → InfluxDB: points made from W1's seeded records (tags host and action; fields bytes and status
// as integers, latency_ms as a float, path as a string; a distinct nanosecond time each) into a
// measurement of their own per run, dropped after the check.
//
// Baseline: @influxdata/influxdb-client's WriteApi with Point objects, batches of the sink's
// `batch_size`, one request in flight while the next batch is made (as the sink writes: a request at a
// time, an event confirmed once its request succeeded). Pump: a source making the points in batches of
// 1024, each with a tracked delivery → InfluxDBSink (its defaults), done when every delivery settled.
// After the clock: COUNT and SUM of `bytes` queried back must match the input.
import { InfluxDB, Point } from "@influxdata/influxdb-client";
import { Pipeline } from "@pump/core";
import { InfluxDBConnection, InfluxDBSink, type InfluxPoint } from "@pump/influxdb";
import { SEED } from "../../config.ts";
import { Prng } from "../../prng.ts";
import { createApp } from "../../pump.ts";
import type { RunOutput, Workload } from "../../workload.ts";
import { makeRecord } from "../ndjson.ts";
import { runSeeded } from "./seeded-source.ts";
import { judgeAgainstClient } from "./target.ts";

const PREFIX = "pump_bench_influx";
/** The sink's request size: the baseline writes as many points per request. */
const BATCH_SIZE = Number(InfluxDBSink.ConfigDefaults.batch_size);
/** 2025-01-01T00:00:00Z in nanoseconds: point i is written at BASE + i. */
const BASE = 1_735_689_600_000_000_000n;

interface InfluxParams {
  events: number;
  url: string;
  token: string;
  org: string;
  bucket: string;
  /** `points/sum of bytes`: what every measurement must hold after its run. */
  expected: string;
}

/** The points, seeded: every variant and run makes the same ones in the same order. */
function* points(measurement: string, total: number): Generator<InfluxPoint> {
  const prng = new Prng(SEED);
  for (let i = 0; i < total; i++) {
    const r = makeRecord(prng, i);
    yield {
      measurement,
      tags: { host: r.host as string, action: r.action as string },
      fields: { bytes: r.bytes as number, status: r.status as number, latency_ms: r.latency_ms as number, path: r.path as string },
      time: BASE + BigInt(i),
    };
  }
}

function describeInput(total: number): string {
  let bytes = 0;
  for (const point of points("input", total)) bytes += point.fields.bytes as number;
  return `${total}/${bytes}`;
}

function settings(): Omit<InfluxParams, "events" | "expected"> {
  const url = process.env.INFLUX_URL;
  if (url === undefined || url === "") throw new Error("INFLUX_URL is not set");
  const bucket = process.env.INFLUX_BUCKET;
  if (bucket === undefined || bucket === "") throw new Error("INFLUX_BUCKET is not set");
  return { url, bucket, token: process.env.INFLUX_TOKEN ?? "", org: process.env.INFLUX_ORG ?? "" };
}

/** An InfluxQL statement through the 1.x query API (InfluxDB 1.8 of the rig; the database is the bucket's first half). */
async function influxql(p: InfluxParams, q: string): Promise<unknown[][]> {
  const url = new URL("/query", p.url);
  url.searchParams.set("db", p.bucket.split("/")[0]!);
  url.searchParams.set("q", q);
  const response = await fetch(url, { method: "POST", headers: p.token === "" ? {} : { authorization: `Token ${p.token}` } });
  if (!response.ok) throw new Error(`InfluxQL ${q}: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { results: { error?: string; series?: { values: unknown[][] }[] }[] };
  const result = body.results[0];
  if (result?.error !== undefined) throw new Error(`InfluxQL ${q}: ${result.error}`);
  return result?.series?.[0]?.values ?? [];
}

/** After the clock: the measurement counted and summed, checked against the input, then dropped. */
function readBack(p: InfluxParams, measurement: string): () => Promise<{ check: string }> {
  return async () => {
    try {
      const [row] = await influxql(p, `SELECT COUNT("bytes"), SUM("bytes") FROM "${measurement}"`);
      const check = `${Number(row?.[1] ?? 0)}/${Number(row?.[2] ?? 0)}`;
      if (check !== p.expected) throw new Error(`${measurement} holds ${check} (points/sum of bytes), the input ${p.expected}`);
      return { check };
    } finally {
      await influxql(p, `DROP MEASUREMENT "${measurement}"`).catch(() => {});
    }
  };
}

async function baseline(p: InfluxParams): Promise<RunOutput> {
  const measurement = `${PREFIX}_baseline_${process.pid}`;
  const writer = new InfluxDB({ url: p.url, token: p.token }).getWriteApi(p.org, p.bucket, "ns", { batchSize: BATCH_SIZE + 1, flushInterval: 0, maxRetries: 3 });
  let batch: Point[] = [];
  let written = 0;
  let inflight: Promise<void> = Promise.resolve();
  for (const point of points(measurement, p.events)) {
    const f = point.fields;
    batch.push(
      new Point(measurement)
        .tag("host", point.tags!.host as string)
        .tag("action", point.tags!.action as string)
        .intField("bytes", f.bytes as number)
        .intField("status", f.status as number)
        .floatField("latency_ms", f.latency_ms as number)
        .stringField("path", f.path as string)
        .timestamp(String(point.time)),
    );
    if (batch.length === BATCH_SIZE) {
      // one request in flight while the next batch is made, as the sink does
      await inflight;
      writer.writePoints(batch);
      inflight = writer.flush();
      written += batch.length;
      batch = [];
    }
  }
  await inflight;
  writer.writePoints(batch);
  await writer.close();
  written += batch.length;
  return { events: written, after: readBack(p, measurement) };
}

async function pump(p: InfluxParams): Promise<RunOutput> {
  const measurement = `${PREFIX}_pump_${process.pid}`;
  const app = createApp();
  const connection = new InfluxDBConnection(app, "InfluxDBConnection", { config: { url: p.url, bucket: p.bucket, org: p.org, token: p.token } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "Bench");
  const sink = new InfluxDBSink(app, pipeline, connection, { config: { integer_fields: "bytes, status" } });
  const t = await runSeeded(app, pipeline, sink, points(measurement, p.events), p.events);
  return {
    events: sink.stats.delivered,
    extra: { failed: t.failed(), batches: sink.stats.batches, retries: sink.stats.retries, throttled: sink.stats.throttled, maxBuffered: sink.stats.maxBuffered },
    after: readBack(p, measurement),
  };
}

export const influxdb: Workload = {
  id: "influxdb",
  title: "pump → InfluxDB writes",
  description: `N seeded points (W1's records: 2 tags, 4 fields, a distinct ns time each) written to a measurement of their own per run. Baseline: @influxdata/influxdb-client's WriteApi with Point objects, requests of ${BATCH_SIZE} points (InfluxDBSink's batch_size), one in flight while the next batch is made. Pump: a source making the points in batches of 1024, each with a tracked delivery → InfluxDBSink (its defaults), done when every delivery settled. After the clock: COUNT and SUM of bytes queried back and checked; the measurement dropped.`,
  requires: "INFLUX_URL",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "influxdb-client WriteApi", pump: "InfluxDBSink" },
  events: 1_000_000,
  prepare: (events) => Promise.resolve({ events, ...settings(), expected: describeInput(events) }),
  run: (variant, params) => (variant === "baseline" ? baseline(params as unknown as InfluxParams) : pump(params as unknown as InfluxParams)),
  judge: judgeAgainstClient,
};

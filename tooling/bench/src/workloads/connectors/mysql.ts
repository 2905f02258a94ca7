// pump → MySQL (the rig's MariaDB): W1's seeded records as rows of a table of their own per run
// (created before the clock, dropped after the check).
//
// Baseline: mysql2, one connection, multi-row `INSERT … VALUES ?` statements of the sink's
// `batch_size` rows, one after the other. Pump: a source making the records in batches of 1024, each
// with a tracked delivery → MySQLSink (its defaults: the same batch size, a statement at a time),
// done when every delivery settled (its statement succeeded). After the clock both tables are read
// back: the row count, the sum of ids and the sum of CRC-32s of a text column must match the input.
import { crc32 } from "node:zlib";
import { Pipeline } from "@pump/core";
import { MySQLConnection, MySQLSink } from "@pump/mysql";
import mysql, { type Connection } from "mysql2/promise";
import { SEED } from "../../config.ts";
import { Prng } from "../../prng.ts";
import { createApp } from "../../pump.ts";
import type { RunOutput, Workload } from "../../workload.ts";
import { makeRecord } from "../ndjson.ts";
import { runSeeded } from "./seeded-source.ts";
import { judgeAgainstClient } from "./target.ts";

const PREFIX = "pump_bench_mysql";
/** The sink's statement size: the baseline inserts as many rows per statement. */
const BATCH_SIZE = Number(MySQLSink.ConfigDefaults.batch_size);
const COLUMNS = ["id", "ts", "host", "user", "action", "status", "bytes", "latency_ms", "path"] as const;
const DDL = `(
  id BIGINT NOT NULL PRIMARY KEY, ts VARCHAR(32) NOT NULL, host VARCHAR(64) NOT NULL, user VARCHAR(32) NOT NULL,
  action VARCHAR(32) NOT NULL, status INT NOT NULL, bytes INT NOT NULL, latency_ms DOUBLE NOT NULL, path VARCHAR(255) NOT NULL
) ENGINE=InnoDB`;

interface MySQLParams {
  events: number;
  url: string;
  /** `rows/sum of ids/sum of crc32(path)`: what every table must hold after its run. */
  expected: string;
}

type Rec = Record<string, unknown>;

/** The records, seeded: every variant and run makes the same ones in the same order. */
function* records(total: number): Generator<Rec> {
  const prng = new Prng(SEED);
  for (let i = 0; i < total; i++) yield makeRecord(prng, i);
}

function summary(rows: number, ids: number, paths: number): string {
  return `${rows}/${ids}/${paths}`;
}

function describeInput(total: number): string {
  let ids = 0;
  let paths = 0;
  for (const record of records(total)) {
    ids += record.id as number;
    paths += crc32(record.path as string);
  }
  return summary(total, ids, paths);
}

function mysqlUrl(): string {
  const value = process.env.MYSQL_URL;
  if (value === undefined || value === "") throw new Error("MYSQL_URL is not set");
  return value;
}

async function createTable(url: string, variant: string): Promise<{ db: Connection; table: string }> {
  const db = await mysql.createConnection(url);
  const table = `${PREFIX}_${variant}_${process.pid}`;
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(`CREATE TABLE ${table} ${DDL}`);
  return { db, table };
}

/** After the clock: the table read back and checked against the input, then dropped. */
function readBack(db: Connection, p: MySQLParams, table: string): () => Promise<{ check: string }> {
  return async () => {
    try {
      const [rows] = await db.query(`SELECT COUNT(*) AS n, COALESCE(SUM(id), 0) AS ids, COALESCE(SUM(CRC32(path)), 0) AS paths FROM ${table}`);
      const { n, ids, paths } = (rows as Rec[])[0]!;
      const check = summary(Number(n), Number(ids), Number(paths));
      if (check !== p.expected) throw new Error(`${table} holds ${check} (rows/ids/crc32 of paths), the input ${p.expected}`);
      return { check };
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await db.end().catch(() => {});
    }
  };
}

async function baseline(p: MySQLParams): Promise<RunOutput> {
  const { db, table } = await createTable(p.url, "baseline");
  const writer = await mysql.createConnection(p.url);
  const statement = `INSERT INTO ${table} (${COLUMNS.join(", ")}) VALUES ?`;
  let rows: unknown[][] = [];
  let stored = 0;
  for (const record of records(p.events)) {
    rows.push(COLUMNS.map((column) => record[column]));
    if (rows.length === BATCH_SIZE) {
      await writer.query(statement, [rows]);
      stored += rows.length;
      rows = [];
    }
  }
  if (rows.length > 0) {
    await writer.query(statement, [rows]);
    stored += rows.length;
  }
  await writer.end();
  return { events: stored, after: readBack(db, p, table) };
}

async function pump(p: MySQLParams): Promise<RunOutput> {
  const { db, table } = await createTable(p.url, "pump");
  const app = createApp();
  const connection = new MySQLConnection(app, "MySQLConnection", { config: { url: p.url } });
  app.pumpService.addConnection(connection);
  const pipeline = new Pipeline(app, "Bench");
  const sink = new MySQLSink(app, pipeline, connection, { config: { table, columns: COLUMNS.join(",") } });
  const t = await runSeeded(app, pipeline, sink, records(p.events), p.events);
  return {
    events: sink.stats.delivered,
    extra: { failed: t.failed(), batches: sink.stats.batches, retries: sink.stats.retries, throttled: sink.stats.throttled, maxBuffered: sink.stats.maxBuffered },
    after: readBack(db, p, table),
  };
}

export const mysqlWorkload: Workload = {
  id: "mysql",
  title: "pump → MySQL batched inserts",
  description: `N seeded records (W1's, 9 columns) inserted into a fresh InnoDB table per run. Baseline: mysql2, one connection, multi-row INSERT … VALUES ? of ${BATCH_SIZE} rows (MySQLSink's batch_size) one after the other. Pump: a source making the records in batches of 1024, each with a tracked delivery → MySQLSink (its defaults), done when every delivery settled. After the clock: COUNT(*), SUM(id) and SUM(CRC32(path)) read back and checked; the table dropped.`,
  requires: "MYSQL_URL",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "mysql2 batched INSERT", pump: "MySQLSink" },
  events: 1_000_000,
  prepare: (events) => Promise.resolve({ events, url: mysqlUrl(), expected: describeInput(events) }),
  run: (variant, params) => (variant === "baseline" ? baseline(params as unknown as MySQLParams) : pump(params as unknown as MySQLParams)),
  judge: judgeAgainstClient,
};

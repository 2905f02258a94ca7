// oxlint-disable no-underscore-dangle -- Elasticsearch's field names (_id, _index, _source, _scroll_id)
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@elastic/elasticsearch";
import { DELIVERY, Delivery, Pipeline, Source, type Context } from "@pump/core";

export { createApp, UnitTestSink, UnitTestSource } from "@pump/core/testing";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** An index name of its own for this run (lower case, as Elasticsearch wants). */
export function uniqueIndex(prefix: string): string {
  return `pump-es-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A plain client for the tests' own setting up and checking (independent of the package). */
export function testClient(url: string): Client {
  return new Client({ node: url });
}

/** Deletes the test's indices (pattern), ignoring those already gone. */
export async function deleteIndices(client: Client, ...indices: string[]): Promise<void> {
  for (const index of indices) await client.indices.delete({ index, ignore_unavailable: true, allow_no_indices: true }, { ignore: [404] }).catch(() => {});
}

/** Every document of an index, `_id` → `_source`, read with a point in time (the tests' own reader). */
export async function readAll(client: Client, index: string): Promise<Map<string, Record<string, unknown>>> {
  await client.indices.refresh({ index });
  const docs = new Map<string, Record<string, unknown>>();
  const pit = await client.openPointInTime({ index, keep_alive: "1m" });
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const page = await client.search<Record<string, unknown>>({
        size: 5000,
        pit: { id: pit.id, keep_alive: "1m" },
        sort: ["_shard_doc"],
        ...(after === undefined ? {} : { search_after: after as never }),
      });
      const hits = page.hits.hits;
      if (hits.length === 0) break;
      for (const hit of hits) docs.set(hit._id!, hit._source!);
      after = hits.at(-1)!.sort;
    }
  } finally {
    await client.closePointInTime({ id: pit.id }).catch(() => {});
  }
  return docs;
}

/** Polls `condition` every `intervalMs`, at most `tries` times (a bound so a broken test cannot hang, never an expectation about speed). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1800, intervalMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/**
 * The rig's script for the node, run without blocking (the pipeline under test keeps running). Its
 * output goes to a file, not a pipe: `up` starts a daemon that would hold a pipe open for ever.
 */
export async function elasticsearchService(verb: "stop" | "up" | "status"): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "pump-es-service-"));
  const log = join(dir, "output.log");
  const fd = openSync(log, "w");
  try {
    const child = spawn("bash", [`${REPO_ROOT}tooling/servers/services/elasticsearch.sh`, verb], { stdio: ["ignore", fd, fd] });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { ok: code === 0, output: readFileSync(log, "utf8") };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Settled {
  done: Set<number>;
  failed: Map<number, unknown>;
}

/** Contexts with deliveries whose settlements are recorded by token. */
export function tracker(): Settled & { track: (token: number) => Context; settledCount: () => number } {
  const done = new Set<number>();
  const failed = new Map<number, unknown>();
  return {
    done,
    failed,
    track: (token) => ({
      [DELIVERY]: new Delivery<number>((d, error) => {
        if (error === undefined) done.add(d.token);
        else failed.set(d.token, error);
      }, token),
    }),
    settledCount: () => done.size + failed.size,
  };
}

/** Produces `count` events made by `make(i)`, in batches, each with a tracked delivery when `track` is given; then ends. */
export class GeneratedSource<T = unknown> extends Source<T> {
  count = 0;
  batchSize = 500;
  make: (i: number) => T = (i) => ({ n: i }) as T;
  track: ((i: number) => Context) | undefined;
  /** Milliseconds to wait between batches (to make a stream last). */
  pauseMs = 0;
  produced = 0;
  finished = false;

  async main(): Promise<void> {
    for (let i = 0; i < this.count; i += this.batchSize) {
      await this.pipeline.ready();
      const n = Math.min(this.batchSize, this.count - i);
      const events: T[] = [];
      const contexts: Context[] = [];
      for (let k = 0; k < n; k++) {
        events.push(this.make(i + k));
        contexts.push(this.track === undefined ? {} : this.track(i + k));
      }
      await this.processBatch(events, contexts);
      this.produced += n;
      if (this.pauseMs > 0) await this.sleep(this.pauseMs / 1000);
    }
    this.finished = true;
    await this.stopped();
  }
}

/** A pipeline whose errors are soft: failed events are dropped (and counted), the pipeline goes on. */
export class SoftPipeline extends Pipeline {
  readonly errors: { error: unknown; event: unknown }[] = [];

  override handleError(error: unknown, _context: Context | undefined, event: unknown): boolean {
    this.errors.push({ error, event });
    return true;
  }
}

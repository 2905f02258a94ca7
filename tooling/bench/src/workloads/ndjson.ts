// What W1's baseline and pump variants share: the input, the per-event work and the line framing,
// so the two differ only in how the work is driven (a hand-written loop or a pipeline).
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Prng } from "../prng.ts";

const HOSTS = ["web-01.example.net", "web-02.example.net", "api-11.example.net", "batch-3.example.net"];
const ACTIONS = ["view", "click", "purchase", "login", "logout", "search", "refund"];
const STATUS = [200, 200, 200, 200, 201, 204, 301, 304, 400, 403, 404, 500, 503];
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0",
  "Mozilla/5.0 (Macintosh) Safari/605.1",
  "curl/8.6.0",
  "Mozilla/5.0 (Windows NT 10.0) Chrome/123.0",
];
const PATHS = ["/api/v2/items/", "/shop/cart/", "/search?q=", "/static/img/", "/account/orders/"];

/** One seeded event of about 250 bytes of JSON. */
export function makeRecord(prng: Prng, id: number): Record<string, unknown> {
  const t = Date.UTC(2025, 0, 1) + id * 37 + prng.int(1000);
  return {
    id,
    ts: new Date(t).toISOString(),
    host: prng.pick(HOSTS),
    user: prng.word(8),
    action: prng.pick(ACTIONS),
    status: prng.pick(STATUS),
    bytes: prng.int(200_000),
    latency_ms: Math.round(prng.next() * 500_000) / 1000,
    path: prng.pick(PATHS) + prng.word(4 + prng.int(16)),
    ua: prng.pick(AGENTS),
    tags: [prng.word(3), prng.word(5)],
  };
}

/** Writes `lines` NDJSON lines (seeded) to `path`; returns the byte count. */
export async function writeInput(path: string, lines: number, seed: number): Promise<number> {
  const prng = new Prng(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  let chunk: string[] = [];
  for (let i = 0; i < lines; i++) {
    const line = JSON.stringify(makeRecord(prng, i)) + "\n";
    bytes += line.length;
    chunk.push(line);
    if (chunk.length === 4096 || i === lines - 1) {
      if (!out.write(chunk.join(""))) await once(out, "drain");
      chunk = [];
    }
  }
  out.end();
  await once(out, "finish");
  return bytes;
}

/** The transformation: set two fields, delete one. */
export function transform(record: Record<string, unknown>): Record<string, unknown> {
  record.ok = (record.status as number) < 400;
  record.day = (record.ts as string).slice(0, 10);
  delete record.ua;
  return record;
}

export function parse(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

export function serialize(record: Record<string, unknown>): string {
  return JSON.stringify(record);
}

/**
 * Frames the complete lines of `buf[0, end)` into `out` (decoded, without the newline); returns where
 * the unfinished tail begins. One decode per chunk up to its last newline, then a split: faster
 * than decoding line by line.
 */
export function frameLines(buf: Buffer, end: number, out: string[]): number {
  if (end === 0) return 0; // (lastIndexOf with a negative offset would search from the buffer's end)
  const last = buf.lastIndexOf(10, end - 1);
  if (last < 0) return 0;
  const lines = buf.toString("utf8", 0, last).split("\n");
  for (let i = 0; i < lines.length; i++) out.push(lines[i]!);
  return last + 1;
}

/** The same, one decode per line with indexOf(10): what the issue names; kept to compare. */
export function frameLinesIndexOf(buf: Buffer, end: number, out: string[]): number {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0 || nl >= end) return start;
    out.push(buf.toString("utf8", start, nl));
    start = nl + 1;
  }
}

/** Read and write sizes shared by both variants. */
export const READ_CHUNK = 256 * 1024;
export const WRITE_BATCH = 1024 * 1024;

// W1: an NDJSON file is read, each line parsed, two fields set and one deleted, serialized and
// written to another file. Baseline: a synchronous hand-written loop. Pump: a file source framing
// chunks into batches, three processors and a batching file sink. Both must write the same bytes.
import { createHash } from "node:crypto";
import { closeSync, createReadStream, createWriteStream, openSync, readSync, statSync, unlinkSync, writeSync, type WriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { once } from "node:events";
import { join } from "node:path";
import { Pipeline, Processor, Sink, Source, type Context } from "@pump/core";
import { SEED } from "../config.ts";
import { createApp, runPipelines, signal } from "../pump.ts";
import type { Params, Row, RunOutput, Verdict, Workload } from "../workload.ts";
import { READ_CHUNK, WRITE_BATCH, frameLines, parse, serialize, transform, writeInput } from "./ndjson.ts";

type Rec = Record<string, unknown>;

function outputPath(params: Params, variant: string): string {
  return join(params.dir as string, `out-${variant}-${process.pid}.ndjson`);
}

/** Hashes the output after the clock stopped, then removes it. */
function verify(path: string): () => Promise<{ check: string; extra: Record<string, unknown> }> {
  return async () => {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    const size = statSync(path).size;
    unlinkSync(path);
    return { check: `sha256:${hash.digest("hex")}`, extra: { outputBytes: size } };
  };
}

// ---- baseline: the fastest plain loop we could write ---------------------------------------------

function baseline(params: Params): RunOutput {
  const input = params.input as string;
  const output = outputPath(params, "baseline");
  const fd = openSync(input, "r");
  const out = openSync(output, "w");
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let filled = 0;
  let events = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const lines: string[] = [];
  for (;;) {
    const read = readSync(fd, buf, filled, READ_CHUNK - filled, null);
    const end = filled + read;
    lines.length = 0;
    let used = frameLines(buf, end, lines);
    if (read === 0 && used < end) {
      lines.push(buf.toString("utf8", used, end)); // a last line without a newline
      used = end;
    }
    for (let i = 0; i < lines.length; i++) {
      const line = serialize(transform(parse(lines[i]!)));
      pending.push(line);
      pendingBytes += line.length + 1;
      if (pendingBytes >= WRITE_BATCH) {
        pending.push("");
        writeSync(out, pending.join("\n"));
        pending = [];
        pendingBytes = 0;
      }
    }
    events += lines.length;
    if (read === 0) break;
    buf.copyWithin(0, used, end);
    filled = end - used;
    if (filled === READ_CHUNK) throw new Error(`a line longer than ${READ_CHUNK} bytes`);
  }
  if (pending.length > 0) {
    pending.push("");
    writeSync(out, pending.join("\n"));
  }
  closeSync(fd);
  closeSync(out);
  return { events, bytes: params.bytes as number, after: verify(output) };
}

// ---- pump ---------------------------------------------------------------------------------------

/**
 * Reads a file in chunks and hands each chunk's complete lines to the pipeline as one batch. The
 * next chunk is read while the current batch is processed (two buffers).
 */
class NdjsonFileSource extends Source<string> {
  path = "";
  done: () => void = () => {};

  async main(): Promise<void> {
    const file = await open(this.path, "r");
    try {
      let buf = Buffer.allocUnsafe(READ_CHUNK);
      let spare = Buffer.allocUnsafe(READ_CHUNK);
      let filled = 0;
      let read = (await file.read(buf, 0, READ_CHUNK, null)).bytesRead;
      for (;;) {
        const end = filled + read;
        const lines: string[] = [];
        let used = frameLines(buf, end, lines);
        if (read === 0 && used < end) {
          lines.push(buf.toString("utf8", used, end));
          used = end;
        }
        const last = read === 0;
        let next: Promise<{ bytesRead: number }> | undefined;
        if (!last) {
          // the unfinished tail goes to the front of the other buffer, the next read after it
          filled = buf.copy(spare, 0, used, end);
          if (filled === READ_CHUNK) throw new Error(`a line longer than ${READ_CHUNK} bytes`);
          next = file.read(spare, filled, READ_CHUNK - filled, null);
          [buf, spare] = [spare, buf];
        }
        if (lines.length > 0) await this.processBatch(lines);
        if (next === undefined) break;
        read = (await next).bytesRead;
      }
    } finally {
      await file.close();
    }
    this.done();
  }
}

class Parse extends Processor<string, Rec> {
  process(_c: Context, line: string): Rec {
    return parse(line);
  }
}
class Transform extends Processor<Rec, Rec> {
  process(_c: Context, record: Rec): Rec {
    return transform(record);
  }
}
class Serialize extends Processor<Rec, string> {
  process(_c: Context, record: Rec): string {
    return serialize(record);
  }
}

/**
 * Writes lines to a file in batches of about WRITE_BATCH bytes through a write stream; while the
 * stream's buffer is over its high-water mark the pipeline is throttled. Flushes in `stop()`.
 */
class NdjsonFileSink extends Sink<string> {
  path = "";
  lines = 0;
  #stream: WriteStream | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;

  override start(): void {
    this.#stream = createWriteStream(this.path, { highWaterMark: 4 * WRITE_BATCH });
  }

  process(_c: Context, line: string): void {
    this.#pending.push(line);
    this.#pendingBytes += line.length + 1;
    this.lines++;
    if (this.#pendingBytes >= WRITE_BATCH) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#pending.push("");
    const ok = this.#stream!.write(this.#pending.join("\n"));
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!ok) {
      this.pipeline.throttle(this, true);
      this.#stream!.once("drain", () => this.pipeline.throttle(this, false));
    }
  }

  override async stop(): Promise<void> {
    this.#flush();
    const stream = this.#stream!;
    stream.end();
    await once(stream, "finish");
  }
}

async function pump(params: Params): Promise<RunOutput> {
  const app = createApp();
  const pipeline = new Pipeline(app, "NdjsonFile");
  const source = new NdjsonFileSource(app, pipeline);
  const sink = new NdjsonFileSink(app, pipeline);
  const done = signal();
  source.path = params.input as string;
  source.done = done.resolve;
  sink.path = outputPath(params, "pump");
  pipeline.build(source, new Parse(app, pipeline), new Transform(app, pipeline), new Serialize(app, pipeline), sink);
  await runPipelines(app, [pipeline], done.promise);
  return { events: sink.lines, bytes: params.bytes as number, after: verify(sink.path) };
}

export const w1: Workload = {
  id: "w1",
  title: "W1 file → JSON → transform → JSON → file",
  description:
    "A seeded NDJSON file (lines of about 255 bytes) is read in 256 KiB chunks and framed into lines; each line is parsed, gets two fields set and one deleted, is serialized and written to a file in ~1 MiB writes. Baseline: a synchronous loop (readSync, the same framing and functions, writeSync). Pump: a file source (one processBatch per chunk, next chunk read meanwhile) → Parse → Transform → Serialize → a file sink on a write stream that throttles the pipeline while the stream is full. Outputs are hashed: every run must write the same bytes. MB/s counts input bytes.",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "sync loop", pump: "pipeline" },
  events: 1_000_000,
  prepare: async (events, dir) => {
    const input = join(dir, "input.ndjson");
    const bytes = await writeInput(input, events, SEED);
    return { input, bytes, dir };
  },
  run: async (variant, params) => (variant === "baseline" ? baseline(params) : pump(params)),
  judge: (row: Row): Verdict => {
    const pass = (row.ratio ?? 0) >= 0.9;
    return { target: "≥0.90×", pass, notes: pass ? [] : [`ratio ${(row.ratio ?? 0).toFixed(2)} < 0.90`] };
  },
};

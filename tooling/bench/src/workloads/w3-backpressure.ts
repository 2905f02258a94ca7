// W3: a fast source into a sink ten times slower. The sink keeps a bounded buffer and throttles the
// pipeline while it is full, so memory stays flat however far the source could run ahead. Baseline:
// the same slow consumer fed by a plain loop that awaits room in the buffer.
import { Pipeline, Sink, Source, type Context } from "@pump/core";
import { createApp, runPipelines, signal } from "../pump.ts";
import { sleep, type Flatness } from "../measure.ts";
import type { Row, RunOutput, Verdict, Workload } from "../workload.ts";

interface Ev {
  n: number;
  payload: string;
}

const BATCH = 1024;
/** About 100 bytes of payload per event (each event gets its own string). */
const PAYLOAD = "x".repeat(92);

function makeBatch(from: number, count: number): Ev[] {
  const batch: Ev[] = [];
  for (let k = 0; k < count; k++) batch.push({ n: from + k, payload: PAYLOAD + (from + k) });
  return batch;
}

/**
 * A consumer that drains `rate` events per second, `chunk` events at a time (each chunk is an async
 * wait, as a network write would be). Its buffer holds `capacity` events: at capacity it reports
 * full, and not full again once the buffer is down to half. Throttled time is counted here.
 */
export class SlowConsumer {
  readonly capacity: number;
  readonly rate: number;
  readonly chunk: number;
  consumed = 0;
  sum = 0;
  full = false;
  throttles = 0;
  throttledMs = 0;
  maxBuffered = 0;
  #buffer: Ev[] = [];
  #head = 0;
  #fullSince = 0;
  #startedAt = 0;
  #wake: (() => void) | undefined;
  #notFull: (() => void) | undefined;
  #closed = false;
  #writer: Promise<void> | undefined;
  onFull: (full: boolean) => void = () => {};

  constructor(capacity: number, rate: number, chunk: number) {
    this.capacity = capacity;
    this.rate = rate;
    this.chunk = chunk;
  }

  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#writer = this.#write();
  }

  push(event: Ev): void {
    this.#buffer.push(event);
    const size = this.buffered;
    if (size > this.maxBuffered) this.maxBuffered = size;
    if (!this.full && size >= this.capacity) {
      this.full = true;
      this.throttles++;
      this.#fullSince = performance.now();
      this.onFull(true);
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves once the buffer is no longer full. */
  whenNotFull(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => (this.#notFull = resolve));
  }

  /** Drains what is left and stops the writer. */
  async close(): Promise<void> {
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    await this.#writer;
  }

  async #write(): Promise<void> {
    for (;;) {
      if (this.buffered === 0) {
        if (this.#closed) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const end = Math.min(this.#head + this.chunk, this.#buffer.length);
      for (let i = this.#head; i < end; i++) this.sum += this.#buffer[i]!.n;
      this.consumed += end - this.#head;
      this.#head = end;
      if (this.#head === this.#buffer.length) {
        this.#buffer = [];
        this.#head = 0;
      } else if (this.#head >= this.capacity) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      if (this.full && this.buffered <= this.capacity / 2) {
        this.full = false;
        this.throttledMs += performance.now() - this.#fullSince;
        this.onFull(false);
        const notFull = this.#notFull;
        this.#notFull = undefined;
        notFull?.();
      }
      // the "write" of this chunk: wait until the schedule of `rate` events per second says it is done
      const due = this.#startedAt + (this.consumed / this.rate) * 1000;
      const wait = due - performance.now();
      await (wait >= 1 ? sleep(wait) : new Promise<void>((resolve) => setImmediate(resolve)));
    }
  }

  figures(seconds: number): Record<string, unknown> {
    const throttledSeconds = this.throttledMs / 1000;
    return {
      throttledSeconds,
      throttledShare: throttledSeconds / seconds,
      throttles: this.throttles,
      maxBuffered: this.maxBuffered,
      capacity: this.capacity,
      sinkRate: this.rate,
    };
  }
}

function consumer(params: Record<string, unknown>): SlowConsumer {
  return new SlowConsumer(params.capacity as number, params.sinkRate as number, params.chunk as number);
}

async function baseline(params: Record<string, unknown>): Promise<RunOutput> {
  const total = params.events as number;
  const slow = consumer(params);
  const start = performance.now();
  slow.start();
  for (let i = 0; i < total; i += BATCH) {
    if (slow.full) await slow.whenNotFull();
    const batch = makeBatch(i, Math.min(BATCH, total - i));
    for (let k = 0; k < batch.length; k++) slow.push(batch[k]!);
    // a plain loop must yield too, or the consumer's timers never run
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await slow.close();
  return { events: slow.consumed, check: `${slow.consumed}/${slow.sum}`, extra: slow.figures((performance.now() - start) / 1000) };
}

class FastSource extends Source<Ev> {
  total = 0;
  done: () => void = () => {};

  async main(): Promise<void> {
    for (let i = 0; i < this.total; i += BATCH) await this.processBatch(makeBatch(i, Math.min(BATCH, this.total - i)));
    this.done();
  }
}

/** Hands events to the slow consumer; throttles the pipeline while the consumer's buffer is full. */
class SlowSink extends Sink<Ev> {
  slow: SlowConsumer | undefined;

  override start(): void {
    this.slow!.onFull = (full) => this.pipeline.throttle(this, full);
    this.slow!.start();
  }

  process(_c: Context, event: Ev): void {
    this.slow!.push(event);
  }

  override async stop(): Promise<void> {
    await this.slow!.close();
  }
}

async function pump(params: Record<string, unknown>): Promise<RunOutput> {
  const app = createApp();
  const pipeline = new Pipeline(app, "Backpressure");
  const source = new FastSource(app, pipeline);
  const sink = new SlowSink(app, pipeline);
  const slow = consumer(params);
  const done = signal();
  source.total = params.events as number;
  source.done = done.resolve;
  sink.slow = slow;
  pipeline.build(source, sink);
  const start = performance.now();
  await runPipelines(app, [pipeline], done.promise);
  return { events: slow.consumed, check: `${slow.consumed}/${slow.sum}`, extra: slow.figures((performance.now() - start) / 1000) };
}

/**
 * Memory is flat when the live heap (the lowest heap in use between collections) does not grow
 * over the run: what a leak or an unbounded buffer would raise. RSS itself ramps for ~10 s while
 * V8 sizes its young generation and lets promoted garbage pile up before a full collection, in the
 * baseline as much as in the pipeline; its growth is reported beside.
 */
const HEAP_FLOOR_GROWTH_MIB = 8;

export const w3: Workload = {
  id: "w3",
  title: "W3 backpressure: fast source → 10× slower sink",
  description:
    "A source that makes {n, payload} events (~100 B each) in batches of 1024 as fast as it can, into a sink that drains 500 k events/s in chunks of 1000 (an async wait per chunk) from a buffer of 20 000 events: at capacity the sink throttles the pipeline (`throttle(this, true)`) and releases it at half. Records peak RSS, RSS over time and how long the source was throttled. Baseline: the same consumer fed by a plain loop that awaits room. Both run with Node's young generation capped (`--max-semi-space-size=2`, BENCH_W3_NODE_ARGS).",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "plain loop", pump: "pipeline" },
  events: 5_000_000,
  // Both variants with the young generation capped, as a memory-bounded pump is deployed: with V8's
  // defaults it grows to tens of MiB under this allocation rate and both peak at 250–300 MiB with the
  // same ~11 MiB live heap (measured; bench README, W3). BENCH_W3_NODE_ARGS="" runs V8's defaults.
  nodeArgs: (process.env.BENCH_W3_NODE_ARGS ?? "--max-semi-space-size=2").split(" ").filter((arg) => arg !== ""),
  prepare: async () => ({ capacity: 20_000, sinkRate: Number(process.env.BENCH_W3_SINK_RATE ?? 500_000), chunk: 1000 }),
  run: async (variant, params) => (variant === "baseline" ? baseline(params) : pump(params)),
  judge: (row: Row): Verdict => {
    const flat = row.extra.rssFlatness as Flatness | undefined;
    const growth = flat?.heapFloorGrowthMiB ?? null;
    const small = row.peakRssMiB < 150;
    const isFlat = growth === null || growth <= HEAP_FLOOR_GROWTH_MIB;
    const notes: string[] = [];
    if (!small) notes.push(`peak RSS ${row.peakRssMiB.toFixed(0)} MiB ≥ 150`);
    if (growth === null) notes.push("run too short to judge flatness");
    else if (!isFlat) notes.push(`live heap grew ${growth.toFixed(0)} MiB over the run (limit ${HEAP_FLOOR_GROWTH_MIB})`);
    if (flat?.growthMiB != null) notes.push(`RSS peak grew ${flat.growthMiB.toFixed(0)} MiB from 20–60% to 60–100% of the run`);
    return { target: "RSS <150 MiB, heap flat", pass: small && isFlat, notes };
  },
};

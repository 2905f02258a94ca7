// W2: tiny events from a generating source through five trivial processors into a counting sink.
// Measures the framework's per-event overhead (batches, contexts, dispatch) against the same five
// functions in a plain loop.
import { Pipeline } from "@pump/core";
import { CountSink, createApp, runPipelines, signal } from "../pump.ts";
import type { Row, RunOutput, Verdict, Workload } from "../workload.ts";
import { BATCH, Dec, Double, Inc, KeepAll, Mask, TinySource, dec, double, inc, keepAll, makeBatch, mask } from "./tiny.ts";

function baseline(total: number): RunOutput {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < total; i += BATCH) {
    const batch = makeBatch(i, Math.min(BATCH, total - i));
    for (let k = 0; k < batch.length; k++) {
      const a = inc(batch[k]!);
      const b = double(a);
      const c = keepAll(b);
      if (c === null) continue;
      const d = dec(c);
      const e = mask(d);
      count++;
      sum += e.n;
    }
  }
  return { events: count, check: `${count}/${sum}` };
}

/** The W2 pipeline; W4 uses it as its plain baseline. */
export async function tinyPipeline(total: number, contexts?: TinySource["contexts"]): Promise<{ sink: CountSink }> {
  const app = createApp();
  const pipeline = new Pipeline(app, "Tiny");
  const source = new TinySource(app, pipeline);
  const sink = new CountSink(app, pipeline);
  const done = signal();
  source.total = total;
  source.contexts = contexts;
  source.done = done.resolve;
  pipeline.build(source, new Inc(app, pipeline), new Double(app, pipeline), new KeepAll(app, pipeline), new Dec(app, pipeline), new Mask(app, pipeline), sink);
  await runPipelines(app, [pipeline], done.promise);
  return { sink };
}

async function pump(total: number): Promise<RunOutput> {
  const { sink } = await tinyPipeline(total);
  return { events: sink.count, check: `${sink.count}/${sink.sum}` };
}

export const w2: Workload = {
  id: "w2",
  title: "W2 generator → 5 processors → counting sink",
  description:
    "Tiny {n} events made in batches of 1024 (one processBatch each) go through five trivial processors (+1, ×2, a filter that keeps all, −1, a mask) into a sink that counts and sums them. Baseline: the same five functions called in a plain loop over the same batches.",
  variants: ["baseline", "pump"],
  baseline: "baseline",
  labels: { baseline: "plain loop", pump: "pipeline" },
  events: 20_000_000,
  run: async (variant, params) => {
    const total = params.events as number;
    return variant === "baseline" ? baseline(total) : pump(total);
  },
  judge: (row: Row): Verdict => {
    const ratioOk = (row.ratio ?? 0) >= 0.5;
    const rateOk = row.eventsPerSecond >= 10e6;
    const notes: string[] = [];
    if (!ratioOk) notes.push(`ratio ${(row.ratio ?? 0).toFixed(2)} < 0.50`);
    if (!rateOk) notes.push(`${(row.eventsPerSecond / 1e6).toFixed(1)} M ev/s < 10 M ev/s`);
    return { target: "≥0.50× & ≥10M ev/s", pass: ratioOk && rateOk, notes };
  },
};

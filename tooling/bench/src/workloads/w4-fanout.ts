// W4: fan-out and delivery tracking. The plain W2 pipeline is the baseline; the same pipeline with
// a Delivery in every event's context shows what tracking costs; the full variant tees every event
// into two more pipelines (one TeeSource bound from the consumer side, one InternalSource bound from
// the tee) with delivery tracking on, and finishes when every delivery settled.
import { InternalSource, Pipeline, TeeProcessor, TeeSource } from "@pump/core";
import { CountSink, createApp, runPipelines, signal, tracker } from "../pump.ts";
import type { Row, RunOutput, Verdict, Workload } from "../workload.ts";
import { Dec, Double, Inc, KeepAll, Mask, TinySource, type Tiny } from "./tiny.ts";
import { tinyPipeline } from "./w2-generator.ts";

async function plain(total: number): Promise<RunOutput> {
  const { sink } = await tinyPipeline(total);
  return { events: sink.count, check: `${sink.count}/${sink.sum}` };
}

async function delivery(total: number): Promise<RunOutput> {
  const t = tracker(total);
  const { sink } = await tinyPipeline(total, t.track);
  await t.allSettled;
  return { events: sink.count, check: `${sink.count}/${sink.sum}`, extra: { settled: t.settled(), failedDeliveries: t.failed() } };
}

async function tee(total: number): Promise<RunOutput> {
  const app = createApp();
  const t = tracker(total);
  const main = new Pipeline(app, "Main");
  const source = new TinySource(app, main);
  const sourceDone = signal();
  source.total = total;
  source.contexts = t.track;
  source.done = sourceDone.resolve;
  const mainSink = new CountSink(app, main);
  main.build(
    source,
    new Inc(app, main),
    new Double(app, main),
    new TeeProcessor<Tiny>(app, main).bind("Queued.*InternalSource"),
    new KeepAll(app, main),
    new Dec(app, main),
    new Mask(app, main),
    mainSink,
  );
  // branch A: wired from the consumer side
  const teed = new Pipeline(app, "Teed");
  const teedSink = new CountSink(app, teed);
  teed.build(new TeeSource<Tiny>(app, teed).bind("Main.TeeProcessor"), new Dec(app, teed), teedSink);
  // branch B: an InternalSource the tee was bound to
  const queued = new Pipeline(app, "Queued");
  const queuedSink = new CountSink(app, queued);
  queued.build(new InternalSource<Tiny>(app, queued), new Mask(app, queued), queuedSink);

  await runPipelines(app, [main, teed, queued], Promise.all([sourceDone.promise, t.allSettled]).then(() => undefined));
  const sums = `${mainSink.count}/${mainSink.sum}|${teedSink.count}/${teedSink.sum}|${queuedSink.count}/${queuedSink.sum}`;
  return {
    events: Math.min(mainSink.count, teedSink.count, queuedSink.count),
    check: `${mainSink.count}/${mainSink.sum}`,
    extra: { settled: t.settled(), failedDeliveries: t.failed(), sinks: sums },
  };
}

export const w4: Workload = {
  id: "w4",
  title: "W4 fan-out (tee into two pipelines) with delivery tracking",
  description:
    "Baseline: the W2 pipeline (source → 5 processors → counting sink). `delivery`: the same with a Delivery in every event's context whose settle callback counts. `tee`: Main (source → +1 → ×2 → TeeProcessor → keep → −1 → mask → sink) tees every event into Teed (TeeSource bound to Main.TeeProcessor → −1 → sink) and Queued (InternalSource the tee is bound to → mask → sink), deliveries on; done when every delivery settled. Events/s counts source events (each reaches three sinks in `tee`).",
  variants: ["baseline", "delivery", "tee"],
  baseline: "baseline",
  labels: { baseline: "plain pipeline", delivery: "+ delivery", tee: "tee ×2 + delivery" },
  events: 2_000_000,
  run: async (variant, params) => {
    const total = params.events as number;
    if (variant === "baseline") return plain(total);
    return variant === "delivery" ? delivery(total) : tee(total);
  },
  judge: (row: Row): Verdict => {
    const settled = row.extra.settled as number | undefined;
    const failed = row.extra.failedDeliveries as number | undefined;
    const ok = settled === row.events && failed === 0;
    const cost = row.ratio === null || row.ratio === 0 ? "?" : (1 / row.ratio).toFixed(1);
    const cpu = typeof row.extra.cpuRatio === "number" ? row.extra.cpuRatio.toFixed(1) : "?";
    return {
      target: "report cost",
      pass: ok ? null : false,
      notes: [`costs ${cost}× the plain pipeline's time and ${cpu}× its CPU per event`, ...(ok ? [] : [`settled ${settled}, failed ${failed} of ${row.events}`])],
    };
  },
};

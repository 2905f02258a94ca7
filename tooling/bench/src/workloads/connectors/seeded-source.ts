// The source of the sink workloads: a run's seeded events pushed in batches of 1024, each with a
// tracked delivery (pump.ts's tracker), so the run ends when the server confirmed every event.
import { Source, type Context, type Pipeline, type PumpApplication, type Sink } from "@pump/core";
import { runPipelines, signal, tracker } from "../../pump.ts";

export const BATCH = 1024;

export class SeededSource<T> extends Source<T> {
  /** The events, made lazily in the workload's seeded order. */
  events: Iterator<T> = [][Symbol.iterator]();
  total = 0;
  contexts: (index: number) => Context = () => ({});
  /** Called once the last batch went into the pipeline. */
  done: () => void = () => {};

  async main(): Promise<void> {
    for (let i = 0; i < this.total; i += BATCH) {
      const count = Math.min(BATCH, this.total - i);
      const batch: T[] = [];
      const contexts: Context[] = [];
      for (let k = 0; k < count; k++) {
        batch.push(this.events.next().value as T);
        contexts.push(this.contexts(i + k));
      }
      await this.processBatch(batch, contexts);
    }
    this.done();
  }
}

/**
 * Runs `pipeline` as SeededSource(`events`, `total` of them, each tracked) → `sink`. It ends once every
 * delivery settled, or with `stopWhen: "produced"` once the last event went in (stopping the pipeline
 * then makes the sink write what it holds, as an application's stop does). Returns the tracker.
 */
export async function runSeeded<T>(
  app: PumpApplication,
  pipeline: Pipeline,
  sink: Sink<T>,
  events: Iterator<T>,
  total: number,
  stopWhen: "settled" | "produced" = "settled",
): Promise<ReturnType<typeof tracker>> {
  const source = new SeededSource<T>(app, pipeline);
  const t = tracker(total);
  const produced = signal();
  source.events = events;
  source.total = total;
  source.contexts = t.track;
  source.done = produced.resolve;
  pipeline.build(source, sink);
  await runPipelines(app, [pipeline], stopWhen === "settled" ? t.allSettled : produced.promise);
  return t;
}

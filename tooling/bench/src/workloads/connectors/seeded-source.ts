// The source of the sink workloads: a run's seeded events pushed in batches of 1024, each with a
// tracked delivery (pump.ts's tracker), so the run ends when the server confirmed every event.
import { Source, type Context } from "@pump/core";

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

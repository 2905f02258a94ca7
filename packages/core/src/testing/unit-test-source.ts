import { Source } from "../component/source.js";
import type { Context } from "../context.js";

/** The source of a test pipeline: the test hands it events (`feed`); on its own it produces nothing. */
export class UnitTestSource<T = unknown> extends Source<T> {
  async main(): Promise<void> {
    await this.stopped();
  }

  /** Hands `events` to the pipeline as one batch (with their contexts, deliveries among them). */
  feed(events: T[], contexts?: Context[]): Promise<void> {
    return this.processBatch(events, contexts);
  }
}

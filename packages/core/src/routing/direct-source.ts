import { Source } from "../component/source.js";
import type { Context } from "../context.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { copyEvent, routedContext, type EventReceiver } from "./receiver.js";

/**
 * A source that processes what it is given at once, synchronously, in the caller's turn (BSPump's
 * DirectSource): no queue, no readiness check — the caller's pipeline is throttled instead while
 * this one is not ready (routers bind that).
 */
export class DirectSource<T = unknown> extends Source<T> implements EventReceiver {
  readonly #feeders = new Set<Pipeline>();

  override get feeders(): ReadonlySet<Pipeline> {
    return this.#feeders;
  }

  addFeeder(pipeline: Pipeline): void {
    this.#feeders.add(pipeline);
  }

  removeFeeder(pipeline: Pipeline): void {
    this.#feeders.delete(pipeline);
  }

  put(context: Context, event: T, copyContext = false, copyEvents = false): void {
    this.offer(copyContext ? structuredClone(context) : context, copyEvents ? copyEvent(event) : event);
  }

  offer(context: Context, event: unknown): void {
    this.pipeline.metrics.in++;
    // inject holds the event's delivery for this pipeline
    this.pipeline.inject(routedContext(context), event, 0);
  }

  async main(): Promise<void> {
    await this.stopped();
  }
}

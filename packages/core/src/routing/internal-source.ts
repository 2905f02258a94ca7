import { Source } from "../component/source.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import { QueueFullError, StoppedError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { copyEvent, routedContext, type EventReceiver } from "./receiver.js";

/** Events taken off the queue into one `processBatch`. */
const BATCH = 256;

/**
 * A source fed by other pipelines through a bounded queue (BSPump's InternalSource). Once the
 * queue holds `queue_max_size × backpressure` events, "bspump.InternalSource.backpressure_on!" is
 * published and every pipeline routing here is throttled until it drains below that. On stop it
 * first processes what it holds; what is left when the pipeline cannot (it is in error) fails back
 * to the sources that track delivery and is counted in the log.
 */
export class InternalSource<T = unknown> extends Source<T> implements EventReceiver {
  static override ConfigDefaults = {
    // BSPump's default is 10; batches want room for at least one of them
    queue_max_size: 1000,
    backpressure: 0.8,
  };

  backPressure = false;
  readonly #max: number;
  readonly #limit: number;
  #events: unknown[] = [];
  #contexts: Context[] = [];
  #head = 0;
  readonly #feeders = new Set<Pipeline>();
  #itemsWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #spaceWaiters: (() => void)[] = [];
  #emptyWaiter: (() => void) | undefined;

  constructor(...args: ConstructorParameters<typeof Source>) {
    super(...args);
    const max = this.config.getInt("queue_max_size");
    this.#max = max <= 0 ? Infinity : Math.max(max, 2);
    const limit = Math.floor(this.#max * this.config.getFloat("backpressure"));
    this.#limit = Math.min(Math.max(limit, 1), this.#max - 1);
  }

  /** Events waiting in the queue. */
  get size(): number {
    return this.#events.length - this.#head;
  }

  override get feeders(): ReadonlySet<Pipeline> {
    return this.#feeders;
  }

  addFeeder(pipeline: Pipeline): void {
    this.#feeders.add(pipeline);
    if (this.backPressure) pipeline.throttle(this, true);
  }

  removeFeeder(pipeline: Pipeline): void {
    if (this.#feeders.delete(pipeline)) pipeline.throttle(this, false);
  }

  /** Puts an event into the queue; throws QueueFullError when it is full (BSPump's `put`, which does not wait). */
  put(context: Context, event: T, copyContext = false, copyEvents = false): void {
    if (this.size >= this.#max) throw new QueueFullError(this.locateAddress(), this.size);
    this.#enqueue(copyContext ? structuredClone(context) : context, copyEvents ? copyEvent(event) : event);
  }

  /** Puts an event into the queue, waiting while it is full. */
  async putAsync(context: Context, event: T, copyContext = false, copyEvents = false): Promise<void> {
    while (this.size >= this.#max) {
      if (this.signal.aborted) throw new StoppedError(`Source '${this.locateAddress()}'`);
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    this.#enqueue(copyContext ? structuredClone(context) : context, copyEvents ? copyEvent(event) : event);
  }

  offer(context: Context, event: unknown): void {
    this.#enqueue(context, event);
  }

  #enqueue(context: Context, event: unknown): void {
    context[DELIVERY]?.hold();
    this.#events.push(event);
    this.#contexts.push(context);
    if (!this.backPressure && this.size >= this.#limit) this.#setBackPressure(true);
    const waiter = this.#itemsWaiter;
    this.#itemsWaiter = undefined;
    waiter?.resolve();
  }

  #setBackPressure(on: boolean): void {
    this.backPressure = on;
    for (const feeder of this.#feeders) feeder.throttle(this, on);
    this.pipeline.pubsub.publish(on ? "bspump.InternalSource.backpressure_on!" : "bspump.InternalSource.backpressure_off!", this);
  }

  async main(): Promise<void> {
    for (;;) {
      await this.pipeline.ready();
      if (this.size === 0) await this.#waitForItems();
      await this.#processSome();
    }
  }

  async #processSome(): Promise<void> {
    const end = Math.min(this.#head + BATCH, this.#events.length);
    const events = this.#events.slice(this.#head, end);
    const contexts = this.#contexts.slice(this.#head, end).map(routedContext);
    this.#head = end;
    if (this.#head === this.#events.length) {
      this.#events = [];
      this.#contexts = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#contexts = this.#contexts.slice(this.#head);
      this.#head = 0;
    }
    if (this.backPressure && this.size < this.#limit) this.#setBackPressure(false);
    for (const wake of this.#spaceWaiters.splice(0)) wake();
    try {
      // the share each event held while queued is the one the pipeline settles
      await this.processBatch(events as T[], contexts);
    } catch (error) {
      // refused before processing (the pipeline is stopping): the events go back to their sources
      for (const context of contexts) context[DELIVERY]?.fail(error);
      throw error;
    }
    if (this.size === 0) {
      const empty = this.#emptyWaiter;
      this.#emptyWaiter = undefined;
      empty?.();
    }
  }

  #waitForItems(): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.signal;
      if (signal.aborted) return reject(new StoppedError(`Source '${this.locateAddress()}'`));
      const onAbort = (): void => reject(new StoppedError(`Source '${this.locateAddress()}'`));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#itemsWaiter = {
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
    });
  }

  /** Processes what the queue holds before the pipeline stops (unless the pipeline is in error). */
  override async drain(): Promise<void> {
    while (this.size > 0 && this.running && !this.pipeline.isError()) {
      await new Promise<void>((resolve) => {
        this.#emptyWaiter = resolve;
        // an error while we wait would leave the queue full: look again soon
        setTimeout(resolve, 100).unref();
      });
    }
  }

  override async stop(timeoutSeconds?: number): Promise<boolean> {
    const stopped = await super.stop(timeoutSeconds);
    const left = this.size;
    if (left > 0) {
      const reason = new StoppedError(`Source '${this.locateAddress()}'`);
      for (let i = this.#head; i < this.#contexts.length; i++) this.#contexts[i]![DELIVERY]?.fail(reason);
      this.#events = [];
      this.#contexts = [];
      this.#head = 0;
      this.log.warn("Stopped with events in the queue", { left });
    }
    for (const wake of this.#spaceWaiters.splice(0)) wake();
    return stopped;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Queue: this.size, BackPressure: this.backPressure };
  }
}

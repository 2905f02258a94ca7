import { Source } from "../../component/source.js";
import type { ComponentOptions } from "../../component/options.js";
import type { Context } from "../../context.js";
import { DELIVERY, Delivery } from "../../delivery/delivery.js";
import type { PumpApplication } from "../../application/application.js";
import type { Pipeline } from "../../pipeline/pipeline.js";

/** A consumer's hold on the queue; `drop()` ends it as a broken network connection would. */
export class MemoryQueueSession {
  alive = true;
}

/**
 * An in-memory stand-in for a message queue with acknowledgements: a message a consumer took stays
 * on the queue until acknowledged, and goes back to the others if not acknowledged (`release`) or
 * when the consumer's session ends.
 */
export class MemoryQueue<T = unknown> {
  readonly #ready: T[] = [];
  readonly #taken = new Map<MemoryQueueSession, Set<T>>();

  put(...messages: T[]): void {
    this.#ready.push(...messages);
  }

  /** Messages waiting for a consumer (not taken). */
  get depth(): number {
    return this.#ready.length;
  }

  open(): MemoryQueueSession {
    const session = new MemoryQueueSession();
    this.#taken.set(session, new Set());
    return session;
  }

  /** Up to `max` messages for `session`, which must acknowledge or release each. */
  take(session: MemoryQueueSession, max: number): T[] {
    if (!session.alive) throw new Error("the session was dropped");
    const messages = this.#ready.splice(0, max);
    for (const message of messages) this.#taken.get(session)!.add(message);
    return messages;
  }

  ack(session: MemoryQueueSession, message: T): void {
    if (session.alive) this.#taken.get(session)?.delete(message);
  }

  release(session: MemoryQueueSession, message: T): void {
    if (session.alive && this.#taken.get(session)?.delete(message) === true) this.#ready.unshift(message);
  }

  /** Ends `session` (every session when none is given): what it had taken goes back to the queue. */
  drop(session?: MemoryQueueSession): void {
    for (const [s, taken] of this.#taken) {
      if (session !== undefined && s !== session) continue;
      s.alive = false;
      this.#ready.unshift(...taken);
      this.#taken.delete(s);
    }
  }
}

/**
 * A source on a `MemoryQueue` that keeps the contract the conformance kit checks — the shape of a real
 * consuming source in a few lines: batches taken from the queue go into the pipeline, each message is
 * acknowledged once its event settled and released if it failed, a dropped session is opened again,
 * and stopping ends the session (what was not acknowledged goes back to the queue).
 */
export class MemoryQueueSource<T = unknown> extends Source<T> {
  readonly queue: MemoryQueue<T>;
  batchSize = 10;
  /** Seconds between polls of an empty queue. */
  pollSeconds = 0.005;
  protected session: MemoryQueueSession | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, queue: MemoryQueue<T>, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    this.queue = queue;
  }

  async main(): Promise<void> {
    try {
      // ready() and sleep() reject once the source is stopped
      for (;;) {
        await this.pipeline.ready();
        if (this.session?.alive !== true) this.session = this.reconnect();
        const session = this.session;
        const messages = this.queue.take(session, this.batchSize);
        if (messages.length === 0) {
          await this.sleep(this.pollSeconds);
          continue;
        }
        await this.processBatch(
          messages,
          messages.map((message) => this.contextFor(session, message)),
        );
      }
    } finally {
      if (this.session !== undefined) this.queue.drop(this.session);
    }
  }

  /** A session of its own, opened at start and again whenever the last one was dropped. */
  protected reconnect(): MemoryQueueSession {
    return this.queue.open();
  }

  /** The event's context: its delivery acknowledges the message once settled, or releases it if it failed. */
  protected contextFor(session: MemoryQueueSession, message: T): Context {
    const settle = (_: Delivery<T>, error: unknown): void => {
      if (error === undefined) this.queue.ack(session, message);
      else this.queue.release(session, message);
    };
    return { [DELIVERY]: new Delivery<T>(settle, message) };
  }
}

import type { Logger } from "./logger.js";

export type Subscriber = (message: string, ...args: unknown[]) => unknown;

/**
 * BSPump's PubSub: synchronous publish of named messages ("Application.tick!", "bspump.pipeline.ready!").
 * A subscriber that throws (or rejects) is logged and does not stop the others.
 */
export class PubSub {
  readonly #subscribers = new Map<string, Set<Subscriber>>();
  readonly #log: Logger | undefined;

  constructor(log?: Logger) {
    this.#log = log;
  }

  subscribe(message: string, subscriber: Subscriber): void {
    let set = this.#subscribers.get(message);
    if (set === undefined) this.#subscribers.set(message, (set = new Set()));
    set.add(subscriber);
  }

  unsubscribe(message: string, subscriber: Subscriber): void {
    const set = this.#subscribers.get(message);
    if (set === undefined) return;
    set.delete(subscriber);
    if (set.size === 0) this.#subscribers.delete(message);
  }

  /** Resolves on the next publication of `message` with its arguments. */
  once(message: string): Promise<unknown[]> {
    return new Promise((resolve) => {
      const subscriber: Subscriber = (_m, ...args) => {
        this.unsubscribe(message, subscriber);
        resolve(args);
      };
      this.subscribe(message, subscriber);
    });
  }

  publish(message: string, ...args: unknown[]): void {
    const set = this.#subscribers.get(message);
    if (set === undefined) return;
    // A copy: subscribers added while publishing hear the next message, not this one.
    for (const subscriber of Array.from(set)) {
      try {
        const result = subscriber(message, ...args);
        if (result instanceof Promise) result.catch((error: unknown) => this.#failed(message, error));
      } catch (error) {
        this.#failed(message, error);
      }
    }
  }

  #failed(message: string, error: unknown): void {
    if (this.#log !== undefined) this.#log.error("PubSub subscriber failed", { message, error });
    else queueMicrotask(() => { throw error; });
  }
}

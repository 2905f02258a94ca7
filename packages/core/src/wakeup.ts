import { setTimeout as delay } from "node:timers/promises";

/**
 * The doorbell of a loop that waits for work: `sleep()` resolves at the next `wake()` (or after `ms`).
 * A wake while nobody sleeps is not kept: the loop looks at its state before it sleeps again.
 */
export class Wakeup {
  #bell: PromiseWithResolvers<void> | undefined;

  wake(): void {
    const bell = this.#bell;
    this.#bell = undefined;
    bell?.resolve();
  }

  /** Until the next `wake()`, or `ms` milliseconds (a timer that does not keep the process alive). */
  sleep(ms = Infinity): Promise<void> {
    const bell = (this.#bell ??= Promise.withResolvers<void>());
    if (ms === Infinity) return bell.promise;
    return Promise.race([bell.promise, delay(ms, undefined, { ref: false })]);
  }
}

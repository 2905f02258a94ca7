import { StoppedError } from "../errors.js";
import type { Trigger } from "../trigger/trigger.js";
import { Source, isStopSignal } from "./source.js";

/**
 * A source that works in cycles, each started by one of its triggers (`.on(trigger)`): files,
 * SQL queries, HTTP polling. Fires that arrive while a cycle runs are coalesced into one.
 */
export abstract class TriggerSource<Out = unknown> extends Source<Out> {
  readonly triggers = new Set<Trigger>();
  #triggered = false;
  #wake: (() => void) | undefined;

  /** One cycle's work: produce this cycle's events. */
  abstract cycle(): Promise<void>;

  /** Registers the source with a trigger; returns the source so it reads well inside `build()`. */
  on(trigger: Trigger): this {
    this.triggers.add(trigger);
    trigger.add(this);
    if (this.running) trigger.attach(this);
    return this;
  }

  /** Whether a fire is waiting to start (or is running) a cycle. */
  get triggered(): boolean {
    return this.#triggered;
  }

  /** Called by a trigger's `fire()`. */
  trigger(): void {
    this.#triggered = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  override start(): void {
    super.start();
    for (const trigger of this.triggers) trigger.attach(this);
  }

  override stop(timeoutSeconds?: number): Promise<boolean> {
    for (const trigger of this.triggers) trigger.detach(this);
    return super.stop(timeoutSeconds);
  }

  async main(): Promise<void> {
    const pubsub = this.pipeline.pubsub;
    for (;;) {
      await this.pipeline.ready();
      await this.#waitForTrigger();
      // The pipeline may have been throttled or stopped by an error while the source waited for the fire.
      await this.pipeline.ready();
      pubsub.publish("bspump.pipeline.cycle_begin!", this.pipeline);
      try {
        await this.cycle();
      } catch (error) {
        if (this.signal.aborted && isStopSignal(error)) {
          this.log.warn("Cycle cancelled by stop");
          pubsub.publish("bspump.pipeline.cycle_canceled!", this.pipeline);
          throw error;
        }
        this.log.error("Cycle failed", { error });
        this.pipeline.setError(undefined, undefined, error, this);
      }
      pubsub.publish("bspump.pipeline.cycle_end!", this.pipeline);
      this.#triggered = false;
      for (const trigger of this.triggers) trigger.done(this);
    }
  }

  #waitForTrigger(): Promise<void> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(new StoppedError(`Source '${this.id}'`));
    if (this.#triggered) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#wake = undefined;
        reject(new StoppedError(`Source '${this.id}'`));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), triggered: this.#triggered };
  }
}

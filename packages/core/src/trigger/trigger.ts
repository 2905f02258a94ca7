import type { PumpApplication } from "../application/application.js";
import type { TriggerSource } from "../component/trigger-source.js";

export interface TriggerOptions {
  /** Defaults to the class name. */
  id?: string | undefined;
  /** Fire at most this many not-yet-triggered sources per fire, chosen at random (BSPump's `max_triggered`). */
  maxTriggered?: number | undefined;
}

/**
 * Starts cycles of the TriggerSources registered with `source.on(trigger)`. A trigger is armed
 * (its timer runs, its subscription is live) while at least one of its sources runs, so a pipeline
 * that is not started costs nothing and a stopped one leaves no timer behind.
 */
export class Trigger {
  readonly app: PumpApplication;
  readonly id: string;
  readonly sources = new Set<TriggerSource>();
  readonly maxTriggered: number | undefined;
  paused = false;
  /** Epoch seconds of the last fire, or undefined before the first. */
  lastFireAt: number | undefined;
  readonly #attached = new Set<TriggerSource>();

  constructor(app: PumpApplication, options: TriggerOptions = {}) {
    this.app = app;
    this.id = options.id ?? new.target.name;
    this.maxTriggered = options.maxTriggered;
  }

  get armed(): boolean {
    return this.#attached.size > 0;
  }

  add(source: TriggerSource): void {
    this.sources.add(source);
  }

  /**
   * Starts a cycle in each running source (or in `maxTriggered` idle ones), unless paused. A source
   * that is not running is left alone: it must not find a stale fire when it starts.
   */
  fire(): void {
    if (this.paused) return;
    this.lastFireAt = this.app.time();
    if (this.maxTriggered === undefined) {
      for (const source of this.#attached) source.trigger();
      return;
    }
    const idle = [...this.#attached].filter((source) => !source.triggered);
    for (let i = idle.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [idle[i], idle[j]] = [idle[j]!, idle[i]!];
    }
    for (const source of idle.slice(0, this.maxTriggered)) source.trigger();
  }

  /** A source finished a cycle. */
  done(_source: TriggerSource): void {}

  pause(pause = true): void {
    this.paused = pause;
    for (const source of this.sources) source.pipeline.pubsub.publish("bspump.trigger.pause!", pause, this);
  }

  /** A source started: the first one arms the trigger. */
  attach(source: TriggerSource): void {
    if (this.#attached.has(source)) return;
    this.#attached.add(source);
    if (this.#attached.size === 1) this.arm();
  }

  /** A source stopped: the last one disarms the trigger. */
  detach(source: TriggerSource): void {
    if (!this.#attached.delete(source)) return;
    if (this.#attached.size === 0) this.disarm();
  }

  protected arm(): void {}

  protected disarm(): void {}
}

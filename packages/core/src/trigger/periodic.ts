import type { PumpApplication } from "../application/application.js";
import { Trigger, type TriggerOptions } from "./trigger.js";

/** Fires every `interval` seconds; the first fire comes one interval after the source starts, as in BSPump. */
export class PeriodicTrigger extends Trigger {
  readonly interval: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(app: PumpApplication, interval = 1, options?: TriggerOptions) {
    super(app, options);
    if (!(interval > 0)) throw new RangeError(`PeriodicTrigger interval must be a positive number of seconds, got ${interval}`);
    this.interval = interval;
  }

  protected override arm(): void {
    this.#timer = setInterval(() => this.fire(), this.interval * 1000);
  }

  protected override disarm(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

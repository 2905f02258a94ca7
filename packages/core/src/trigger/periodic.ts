import type { PumpApplication } from "../application/application.js";
import { Trigger, type TriggerOptions } from "./trigger.js";

/** Node's timers take at most 2^31-1 ms; a longer (or infinite) delay silently becomes 1 ms. */
const MAX_INTERVAL = 2_147_483.647;

/** Fires every `interval` seconds; the first fire comes one interval after the source starts, as in BSPump. */
export class PeriodicTrigger extends Trigger {
  readonly interval: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(app: PumpApplication, interval = 1, options?: TriggerOptions) {
    super(app, options);
    if (!(interval > 0) || !(interval <= MAX_INTERVAL)) {
      throw new RangeError(`PeriodicTrigger interval must be a positive number of seconds up to ${MAX_INTERVAL} (use a CronTrigger for longer), got ${interval}`);
    }
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

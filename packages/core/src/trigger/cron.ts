import { Cron } from "croner";
import type { PumpApplication } from "../application/application.js";
import { ConfigError } from "../errors.js";
import { Trigger, type TriggerOptions } from "./trigger.js";

export interface CronTriggerOptions extends TriggerOptions {
  /** IANA time zone the expression is read in; defaults to the machine's. */
  timezone?: string | undefined;
}

/** Fires on a cron schedule: `new CronTrigger(app, "*\/5 * * * *")` (five fields, or six with seconds first). */
export class CronTrigger extends Trigger {
  readonly expression: string;
  readonly timezone: string | undefined;
  #job: Cron | undefined;

  constructor(app: PumpApplication, expression: string, options: CronTriggerOptions = {}) {
    super(app, options);
    this.expression = expression;
    this.timezone = options.timezone;
    let job: Cron;
    try {
      // Parse now so a bad expression fails at construction, not at start.
      job = new Cron(expression, { paused: true, timezone: this.timezone });
    } catch (error) {
      throw new ConfigError(`Invalid cron expression '${expression}': ${(error as Error).message}`, {}, "PUMP_CONFIG_VALUE", { cause: error });
    }
    try {
      // The time zone is only used when a run is computed: an unknown one would otherwise throw from start().
      job.nextRun();
    } catch (error) {
      throw new ConfigError(`Invalid time zone '${this.timezone}' for cron expression '${expression}': ${(error as Error).message}`, {}, "PUMP_CONFIG_VALUE", { cause: error });
    } finally {
      job.stop();
    }
  }

  /** When the trigger fires next (undefined if never). */
  nextRun(): Date | undefined {
    return new Cron(this.expression, { paused: true, timezone: this.timezone }).nextRun() ?? undefined;
  }

  protected override arm(): void {
    this.#job = new Cron(this.expression, { timezone: this.timezone, unref: false }, () => this.fire());
  }

  protected override disarm(): void {
    this.#job?.stop();
    this.#job = undefined;
  }
}

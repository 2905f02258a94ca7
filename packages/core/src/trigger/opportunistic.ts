import type { PumpApplication } from "../application/application.js";
import type { TriggerSource } from "../component/trigger-source.js";
import { Trigger, type TriggerOptions } from "./trigger.js";

export interface OpportunisticTriggerOptions extends TriggerOptions {
  /** Fire as soon as a source starts (default true). */
  runImmediately?: boolean | undefined;
  /** Never fire twice within this many seconds (default 5). */
  chilldownPeriod?: number | undefined;
}

/**
 * Fires as often as it may: at start, right after each finished cycle, and on every application
 * tick — but never twice within the chilldown period. Unpausing fires at once.
 */
export class OpportunisticTrigger extends Trigger {
  readonly runImmediately: boolean;
  readonly chilldownPeriod: number;
  #immediate: NodeJS.Immediate | undefined;
  readonly #onTick = (): void => this.#tryFire();

  constructor(app: PumpApplication, options: OpportunisticTriggerOptions = {}) {
    super(app, options);
    this.runImmediately = options.runImmediately ?? true;
    this.chilldownPeriod = options.chilldownPeriod ?? 5;
  }

  protected override arm(): void {
    this.app.pubsub.subscribe("Application.tick!", this.#onTick);
    if (this.runImmediately) this.#soon();
  }

  protected override disarm(): void {
    this.app.pubsub.unsubscribe("Application.tick!", this.#onTick);
    clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  override done(_source: TriggerSource): void {
    if (this.armed) this.#soon();
  }

  override pause(pause = true): void {
    super.pause(pause);
    if (!pause && this.armed) this.fire();
  }

  #soon(): void {
    if (this.#immediate !== undefined) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#tryFire();
    });
  }

  #tryFire(): void {
    const last = this.lastFireAt;
    if (last !== undefined && this.app.time() - last < this.chilldownPeriod) return;
    this.fire();
  }
}

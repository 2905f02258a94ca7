import type { TriggerSource } from "../component/trigger-source.js";
import { Trigger } from "./trigger.js";

/**
 * Fires once, as soon as a source starts; when that cycle is done the application stops, as in
 * BSPump (a pump that processes one batch of work and exits).
 */
export class RunOnceTrigger extends Trigger {
  #fired = false;

  protected override arm(): void {
    if (this.#fired) return;
    this.#fired = true;
    setImmediate(() => this.fire());
  }

  override done(_source: TriggerSource): void {
    this.app.stop();
  }
}

import type { PumpApplication } from "../application/application.js";
import type { PubSub } from "../pubsub.js";
import { Trigger, type TriggerOptions } from "./trigger.js";

export interface PubSubTriggerOptions extends TriggerOptions {
  /** The bus to listen on; defaults to the application's. */
  pubsub?: PubSub | undefined;
}

/** Fires on each publication of a message, e.g. "Application.run!" (once at start) or "Application.tick!". */
export class PubSubTrigger extends Trigger {
  readonly messageTypes: readonly string[];
  readonly #pubsub: PubSub;
  readonly #onMessage = (): void => this.fire();

  constructor(app: PumpApplication, messageTypes: string | readonly string[], options: PubSubTriggerOptions = {}) {
    super(app, options);
    this.messageTypes = typeof messageTypes === "string" ? [messageTypes] : [...messageTypes];
    this.#pubsub = options.pubsub ?? app.pubsub;
  }

  protected override arm(): void {
    for (const message of this.messageTypes) this.#pubsub.subscribe(message, this.#onMessage);
  }

  protected override disarm(): void {
    for (const message of this.messageTypes) this.#pubsub.unsubscribe(message, this.#onMessage);
  }
}

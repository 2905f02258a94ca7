import { DeliveryError } from "../errors.js";

/** The context key under which an event's delivery travels. Contexts copied by `inject` keep it. */
export const DELIVERY: unique symbol = Symbol.for("@pump/core.delivery");

/**
 * Called once per delivery: `error` is undefined when every holder confirmed, else the first failure.
 * (Declared as a method so a `Delivery<number>` still fits where a `Delivery<unknown>` is expected.)
 */
export type SettleCallback<Token> = { settle(delivery: Delivery<Token>, error: unknown): void }["settle"];

/**
 * At-least-once bookkeeping for one source event: a count of holders that still owe an answer.
 * The source creates it with one holder (the event itself); fan-out (generators, tees, routing)
 * adds holders; each holder settles once, with `done()` or `fail()`. When the count reaches zero the
 * source hears once, and the first failure wins. Events without a delivery cost nothing.
 */
export class Delivery<Token = unknown> {
  /** What the source needs to commit or acknowledge: an offset, a delivery tag... */
  readonly token: Token;
  #pending = 1;
  #failed = false;
  #error: unknown = undefined;
  readonly #onSettle: SettleCallback<Token>;

  constructor(onSettle: SettleCallback<Token>, token: Token) {
    this.#onSettle = onSettle;
    this.token = token;
  }

  get settled(): boolean {
    return this.#pending === 0;
  }

  /** Holders that have not answered yet. */
  get pending(): number {
    return this.#pending;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Adds holders: an event copied to more places must be confirmed by each of them. */
  hold(count = 1): void {
    if (this.#pending === 0) throw new DeliveryError("Cannot hold a delivery that is already settled");
    this.#pending += count;
  }

  /** One holder confirms: the sink made it durable, or a processor dropped it on purpose. */
  done(): void {
    this.#release();
  }

  /** One holder gives up: the sink could not deliver, or a hard error discarded the event. */
  fail(error: unknown): void {
    if (!this.#failed) {
      this.#failed = true;
      this.#error = error ?? new DeliveryError("Delivery failed without a reason");
    }
    this.#release();
  }

  #release(): void {
    if (this.#pending === 0) throw new DeliveryError("Delivery settled more times than it was held");
    if (--this.#pending === 0) this.#onSettle(this, this.#failed ? this.#error : undefined);
  }
}

/** The delivery an event carries, if its source tracks one. */
export function deliveryOf(context: { [DELIVERY]?: Delivery<unknown> | undefined } | null | undefined): Delivery<unknown> | undefined {
  return context?.[DELIVERY];
}

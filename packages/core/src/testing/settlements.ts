import type { Context } from "../context.js";
import { DELIVERY, Delivery } from "../delivery/delivery.js";

/** How the deliveries of a test settled, by token: "done", or the error they failed with. */
export interface Settlements {
  readonly settled: Map<number, unknown>;
  /** A context (with `extra`) whose delivery records its settlement under `token`; a second settlement throws. */
  context(token: number, extra?: Context): Context;
}

/** Contexts whose deliveries record how they settled, for asserting what a sink confirmed and failed. */
export function settlements(): Settlements {
  const settled = new Map<number, unknown>();
  return {
    settled,
    context: (token, extra = {}) => ({
      ...extra,
      [DELIVERY]: new Delivery<number>((delivery, error) => {
        if (settled.has(delivery.token)) throw new Error(`delivery ${delivery.token} settled twice`);
        settled.set(delivery.token, error ?? "done");
      }, token),
    }),
  };
}

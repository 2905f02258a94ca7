import type { DELIVERY, Delivery } from "./delivery/delivery.js";

/**
 * What travels beside an event: a plain object, per event, that sources fill (topic, offset,
 * file name...) and processors may read and write. `inject` gives each derived event a copy.
 */
export interface Context {
  [key: string]: unknown;
  [DELIVERY]?: Delivery<unknown> | undefined;
}

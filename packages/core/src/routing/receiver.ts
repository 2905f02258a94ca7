import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import type { Pipeline } from "../pipeline/pipeline.js";

/**
 * A source that takes events handed to it by other pipelines (InternalSource, DirectSource).
 * `put` holds the event's delivery for as long as the receiving pipeline needs it, so a router
 * releases its own share as usual.
 */
export interface EventReceiver {
  readonly pipeline: Pipeline;
  readonly id: string;
  /** Takes an event from a router; may exceed a queue bound by what the feeder's current batch adds. */
  offer(context: Context, event: unknown): void;
  /** A pipeline that routes here: it is throttled while this receiver is back-pressured. */
  addFeeder(pipeline: Pipeline): void;
  removeFeeder(pipeline: Pipeline): void;
  locateAddress(): string;
}

export function isEventReceiver(value: unknown): value is EventReceiver {
  return typeof value === "object" && value !== null && typeof (value as EventReceiver).offer === "function" && typeof (value as EventReceiver).addFeeder === "function";
}

/** A routed event's context: BSPump's `{ ancestor }`, keeping the delivery it travels with. */
export function routedContext(context: Context): Context {
  const child: Context = { ancestor: context };
  const delivery = context[DELIVERY];
  if (delivery !== undefined) child[DELIVERY] = delivery;
  return child;
}

/**
 * BSPump deep-copies routed events by default, so branches never share a mutable event. Plain
 * objects and arrays (what events nearly always are) are copied by hand — structuredClone
 * serializes and costs ten times more for a small event; anything else goes to structuredClone.
 */
export function copyEvent<T>(event: T): T {
  if (event === null || typeof event !== "object") return event;
  if (Array.isArray(event)) return event.map((item: unknown) => copyEvent(item)) as T;
  const prototype = Object.getPrototypeOf(event);
  if (prototype === Object.prototype || prototype === null) {
    const copy: Record<string, unknown> = prototype === null ? Object.create(null) : {};
    for (const key in event) copy[key] = copyEvent((event as Record<string, unknown>)[key]);
    return copy as T;
  }
  if (Buffer.isBuffer(event)) return Buffer.from(event) as T;
  return structuredClone(event);
}

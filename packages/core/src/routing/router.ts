import type { Context } from "../context.js";
import { RoutingError } from "../errors.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { Subscriber } from "../pubsub.js";
import { copyEvent, isEventReceiver, type EventReceiver } from "./receiver.js";

/**
 * Routes events of one pipeline into sources of others, by BSPump address ("Pipeline.*Source"),
 * and binds throttling both ways: the routing pipeline waits while a target pipeline is not ready
 * and while a target's queue is back-pressured. RouterSink, RouterProcessor and TeeProcessor use it.
 */
export class Router {
  readonly #pipeline: Pipeline;
  readonly #targets = new Map<string, { receiver: EventReceiver; onReady: Subscriber }>();

  constructor(pipeline: Pipeline) {
    this.#pipeline = pipeline;
  }

  /** Finds the target and binds throttling to it; called on first use of an address. */
  locate(address: string): EventReceiver {
    const known = this.#targets.get(address);
    if (known !== undefined) return known.receiver;
    const found = this.#pipeline.app.pumpService.locate(address);
    if (!isEventReceiver(found)) {
      throw new RoutingError(
        found === undefined
          ? `Pipeline '${this.#pipeline.id}' cannot route to '${address}': nothing is there (addresses look like 'Pipeline.*Source')`
          : `Pipeline '${this.#pipeline.id}' cannot route to '${address}': it is not an InternalSource or DirectSource`,
      );
    }
    const target = found.pipeline;
    const onReady: Subscriber = (message) => this.#pipeline.throttle(target, message === "bspump.pipeline.not_ready!");
    target.pubsub.subscribe("bspump.pipeline.ready!", onReady);
    target.pubsub.subscribe("bspump.pipeline.not_ready!", onReady);
    if (!target.isReady()) this.#pipeline.throttle(target, true);
    found.addFeeder(this.#pipeline);
    this.#targets.set(address, { receiver: found, onReady });
    return found;
  }

  /** Undoes `locate`: the pipeline no longer waits for that target. */
  unlocate(address: string): void {
    const known = this.#targets.get(address);
    if (known === undefined) return;
    this.#targets.delete(address);
    const target = known.receiver.pipeline;
    target.pubsub.unsubscribe("bspump.pipeline.ready!", known.onReady);
    target.pubsub.unsubscribe("bspump.pipeline.not_ready!", known.onReady);
    if (![...this.#targets.values()].some((t) => t.receiver.pipeline === target)) this.#pipeline.throttle(target, false);
    known.receiver.removeFeeder(this.#pipeline);
  }

  /** Hands the event (a deep copy unless told otherwise) to the target; its delivery now waits for the target too. */
  route(context: Context, event: unknown, address: string, copy = true): void {
    this.locate(address).offer(context, copy ? copyEvent(event) : event);
  }

  /** Addresses located so far. */
  get addresses(): string[] {
    return [...this.#targets.keys()];
  }
}

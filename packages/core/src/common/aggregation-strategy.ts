import type { Context } from "../context.js";
import { formatLine } from "./print-output.js";

/** How an Aggregator builds its aggregate: `append` each event, `flush` to take the aggregate and start over. */
export abstract class AggregationStrategy<In = unknown, Out = unknown> {
  abstract append(context: Context, event: In): void;
  /** The aggregate of what was appended since the last flush; the strategy is empty afterwards. */
  abstract flush(): Out;
  abstract isEmpty(): boolean;
}

/** The aggregate is the list of `[context, event]` pairs (BSPump's `(context, event)` tuples). */
export class ListAggregationStrategy<In = unknown> extends AggregationStrategy<In, [Context, In][]> {
  #items: [Context, In][] = [];

  append(context: Context, event: In): void {
    this.#items.push([context, event]);
  }

  flush(): [Context, In][] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  isEmpty(): boolean {
    return this.#items.length === 0;
  }
}

/** The aggregate is the list of events. */
export class ListEventAggregationStrategy<In = unknown> extends AggregationStrategy<In, In[]> {
  #events: In[] = [];

  append(_context: Context, event: In): void {
    this.#events.push(event);
  }

  flush(): In[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  isEmpty(): boolean {
    return this.#events.length === 0;
  }
}

/**
 * The aggregate is one string: the events joined by `delimiter` ("\n" by default). A string event is
 * taken as it is, anything else as `print()` would show it (see `formatLine`; Python's `str(event)`).
 * Unlike BSPump, an empty delimiter works (BSPump's flush cuts `[0:-0]` and returns ""), and an
 * empty string event still counts as appended.
 */
export class StringAggregationStrategy<In = unknown> extends AggregationStrategy<In, string> {
  readonly delimiter: string;
  #parts: string[] = [];

  constructor(delimiter = "\n") {
    super();
    this.delimiter = delimiter;
  }

  append(_context: Context, event: In): void {
    this.#parts.push(formatLine(event));
  }

  flush(): string {
    const text = this.#parts.join(this.delimiter);
    this.#parts = [];
    return text;
  }

  isEmpty(): boolean {
    return this.#parts.length === 0;
  }
}

import {
  Delivery,
  DELIVERY,
  PumpApplication,
  Processor,
  Sink,
  Source,
  deliveryOf,
  logging,
  type Context,
  type LogRecord,
} from "../src/index.js";

export { UnitTestSink } from "../src/testing/index.js";

/** An application that reads no command line and no file. */
export function createApp(): PumpApplication {
  return new PumpApplication({ args: [] });
}

/** Captures log records for the duration of a test. */
export function captureLogs(): { records: LogRecord[]; restore: () => void } {
  const records: LogRecord[] = [];
  const level = logging.level;
  logging.setWriter((record) => records.push(record));
  logging.setLevel("debug");
  return {
    records,
    restore: () => {
      logging.setWriter(undefined);
      logging.setLevel(level);
    },
  };
}

/** Hands its events to the pipeline in batches, then finishes. */
export class ListSource<T = unknown> extends Source<T> {
  events: T[] = [];
  batchSize = 1000;
  contexts: ((index: number) => Context) | undefined;

  async main(): Promise<void> {
    for (let i = 0; i < this.events.length; i += this.batchSize) {
      await this.pipeline.ready();
      const batch = this.events.slice(i, i + this.batchSize);
      const make = this.contexts;
      await this.processBatch(batch, make === undefined ? undefined : batch.map((_, k) => make(i + k)));
    }
  }
}

/** Buffers events and confirms their delivery only on flush (as a server-backed sink does). */
export class BufferSink<T = unknown> extends Sink<T> {
  override readonly confirmsDelivery = true;
  readonly buffer: { context: Context; event: T }[] = [];
  readonly flushed: T[] = [];
  failNextFlush: Error | undefined;

  process(context: Context, event: T): void {
    this.buffer.push({ context, event });
  }

  flush(): void {
    const items = this.buffer.splice(0);
    const failure = this.failNextFlush;
    this.failNextFlush = undefined;
    for (const { context, event } of items) {
      const delivery = deliveryOf(context);
      if (failure !== undefined) delivery?.fail(failure);
      else {
        this.flushed.push(event);
        delivery?.done();
      }
    }
  }

  override stop(): void {
    this.flush();
  }
}

/** Throws on events equal to `bad`. */
export class Boom extends Processor<string, string> {
  bad = "bad";

  process(_context: Context, event: string): string {
    if (event === this.bad) throw new Error(`boom on ${event}`);
    return event;
  }
}

export interface SettleLog {
  settled: { token: number; error: unknown }[];
  track: (token: number) => Context;
}

/** Contexts with deliveries whose settlements are recorded. */
export function settleLog(): SettleLog {
  const settled: { token: number; error: unknown }[] = [];
  return {
    settled,
    track: (token) => ({ [DELIVERY]: new Delivery<number>((d, error) => settled.push({ token: d.token, error }), token) }),
  };
}

/** Resolves once `condition` holds, checking every millisecond (gives up after 10 000 checks so a broken test cannot hang). */
export async function until(condition: () => boolean, what = "condition"): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

// Pump-side helpers the workloads share: an application that reads no command line, a counting
// sink, deliveries that count their settlements, and a way to run a set of pipelines until a
// condition says the work is done.
import { Delivery, DELIVERY, PumpApplication, Sink, logging, type Context, type Pipeline } from "@pump/core";

export function createApp(): PumpApplication {
  logging.setLevel("warn");
  return new PumpApplication({ args: [] });
}

/** Counts what reaches it, and sums `event.n` so every variant can be checked against the others. */
export class CountSink extends Sink<{ n: number }> {
  count = 0;
  sum = 0;

  process(_context: Context, event: { n: number }): void {
    this.count++;
    this.sum += event.n;
  }
}

/** A promise with its resolver, for "the source is done" and "every delivery settled". */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, resolve: () => resolve() };
}

/** Deliveries that count their settlements; `allSettled` resolves when `total` have. */
export function tracker(total: number): { track: (i: number) => Context; settled: () => number; failed: () => number; allSettled: Promise<void> } {
  let settled = 0;
  let failed = 0;
  const all = signal();
  const onSettle = (_d: Delivery<number>, error: unknown): void => {
    if (error !== undefined) failed++;
    if (++settled === total) all.resolve();
  };
  return {
    track: (i) => ({ [DELIVERY]: new Delivery<number>(onSettle, i) }),
    settled: () => settled,
    failed: () => failed,
    allSettled: all.promise,
  };
}

/**
 * Starts the pipelines (as `app.run()` does, without signals and ticks), waits for `done`, then stops
 * them in order (sources, in-flight work, sinks flush). Throws the first hard error a pipeline hit.
 */
export async function runPipelines(app: PumpApplication, pipelines: Pipeline[], done: Promise<void>): Promise<void> {
  app.pumpService.addPipelines(...pipelines);
  const failed = Promise.withResolvers<never>();
  for (const pipeline of pipelines) {
    pipeline.pubsub.subscribe("bspump.pipeline.error!", () => failed.reject(pipeline.error?.error ?? new Error(`pipeline ${pipeline.id} failed`)));
  }
  await app.pumpService.initialize();
  await Promise.race([done, failed.promise]);
  await app.pumpService.finalize();
}

/** `runPipelines` until `condition` holds (checked every 5 ms): for runs whose end a counter says. */
export async function runPipelinesUntil(app: PumpApplication, pipelines: Pipeline[], condition: () => boolean): Promise<void> {
  const done = signal();
  const poll = setInterval(() => {
    if (condition()) done.resolve();
  }, 5);
  try {
    await runPipelines(app, pipelines, done.promise);
  } finally {
    clearInterval(poll);
  }
}

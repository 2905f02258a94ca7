import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach } from "vitest";
import { Pipeline, PumpApplication, Sink, Trigger, deliveryOf, type Context, type Source } from "@pump/core";

export { UnitTestSink } from "@pump/core/testing";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pump-file-"));
  dirs.push(dir);
  return dir;
}

/** Every file under `dir`, relative and sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .toSorted();
}

/** An application that reads no command line and no file. */
export function createApp(): PumpApplication {
  return new PumpApplication({ args: [] });
}

/** A pipeline whose soft errors are counted as warnings (BSPump's handle_error returning True). */
export class SoftPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

/**
 * A sink that confirms late, as a server-backed sink does: it holds events until `confirm()`; above
 * `limit` held events it throttles the pipeline. `stop()` confirms nothing unless `flushOnStop`.
 */
export class LateSink<T = unknown> extends Sink<T> {
  override readonly confirmsDelivery = true;
  readonly held: { context: Context; event: T }[] = [];
  readonly confirmed: T[] = [];
  received = 0;
  maxHeld = 0;
  limit = Infinity;
  flushOnStop = false;
  failOnStop: Error | undefined;
  #throttled = false;

  process(context: Context, event: T): void {
    this.held.push({ context, event });
    this.received++;
    this.maxHeld = Math.max(this.maxHeld, this.held.length);
    if (this.held.length >= this.limit && !this.#throttled) {
      this.#throttled = true;
      this.pipeline.throttle(this, true);
    }
  }

  /** Confirms the oldest `count` held events (all by default). */
  confirm(count = this.held.length): void {
    for (const { context, event } of this.held.splice(0, count)) {
      this.confirmed.push(event);
      deliveryOf(context)?.done();
    }
    if (this.#throttled && this.held.length < this.limit) {
      this.#throttled = false;
      this.pipeline.throttle(this, false);
    }
  }

  fail(error: Error): void {
    for (const { context } of this.held.splice(0)) deliveryOf(context)?.fail(error);
  }

  override stop(): void {
    if (this.flushOnStop) this.confirm();
    else if (this.failOnStop !== undefined) this.fail(this.failOnStop);
  }
}

/** A trigger fired by hand. */
export function manualTrigger(app: PumpApplication): Trigger {
  return new Trigger(app, { id: "ManualTrigger" });
}

/** Counts the cycles a pipeline's sources finished. */
export function cycleCounter(pipeline: Pipeline): { ends: number; noFiles: number } {
  const counter = { ends: 0, noFiles: 0 };
  pipeline.pubsub.subscribe("bspump.pipeline.cycle_end!", () => counter.ends++);
  pipeline.pubsub.subscribe("bspump.file_source.no_files!", () => counter.noFiles++);
  return counter;
}

/** Resolves once `condition` holds, checking on every turn of the event loop (gives up after 20 000 turns so a broken test cannot hang). */
export async function until(condition: () => boolean | Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 100 ? 0 : 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Starts the pipeline, fires the trigger and waits for `cycles` more cycle ends. */
export async function runCycles(pipeline: Pipeline, trigger: Trigger, counter: { ends: number }, cycles = 1): Promise<void> {
  if (!pipeline.running) await pipeline.start();
  for (let i = 0; i < cycles; i++) {
    const target = counter.ends + 1;
    trigger.fire();
    await until(() => counter.ends >= target, `cycle ${target}`);
  }
}

export type AnySource = Source<unknown>;

import { setTimeout as delay } from "node:timers/promises";
import { Config, type ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";
import { StoppedError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { PumpApplication } from "../application/application.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { ComponentOptions } from "./options.js";

const NO_FEEDERS: ReadonlySet<Pipeline> = new Set();

/** True for the errors a source sees because it is being stopped, not because something broke. */
export function isStopSignal(error: unknown): boolean {
  return error instanceof StoppedError || (error instanceof Error && error.name === "AbortError");
}

/**
 * Produces events into its pipeline from `main()`, which runs from `start()` until it returns or the
 * source is stopped. BSPump's contract holds: await `this.pipeline.ready()` before producing. On
 * stop, `ready()`, `sleep()` and the `signal` reject or abort, so plain `while (true)` loops end.
 */
export abstract class Source<Out = unknown> {
  static ConfigDefaults: ConfigValues = {};

  declare readonly "~types"?: { out: () => Out };

  readonly app: PumpApplication;
  readonly pipeline: Pipeline;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;
  #task: Promise<void> | undefined;
  #abort = new AbortController();
  #finished = false;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    this.app = app;
    this.pipeline = pipeline;
    this.id = options.id ?? new.target.name;
    this.config = Config.forClass(new.target, `pipeline:${pipeline.id}:${this.id}`, options.config, app.config);
    this.log = pipeline.log.child({ component: this.id });
  }

  /** The source's work: produce events until there are no more or the source is stopped. */
  abstract main(): Promise<void>;

  /** Aborted when the source is being stopped: pass it to clients that take a signal. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Started, and neither stopping nor finished. */
  get running(): boolean {
    return this.#task !== undefined && !this.#finished && !this.#abort.signal.aborted;
  }

  /** Hands one event to the pipeline (waits while it is not ready). */
  process(event: Out, context?: Context): Promise<void> {
    return this.pipeline.process(event, context);
  }

  /** Hands a batch to the pipeline with one await; `contexts[i]` goes with `events[i]` and is owned by the pipeline from here. */
  processBatch(events: readonly Out[], contexts?: readonly Context[]): Promise<void> {
    return this.pipeline.processBatch(events, contexts);
  }

  /** Pipelines that put events into this source (routing); the service stops them before this one's pipeline. */
  get feeders(): ReadonlySet<Pipeline> {
    return NO_FEEDERS;
  }

  /**
   * Called when the pipeline begins to stop, while it still processes: a source holding events it
   * already accepted (a queue) hands them over here. The default has nothing to hand over. While
   * the pipeline is in error nothing moves: a drain must not wait for that (check `isError()`).
   */
  async drain(): Promise<void> {}

  /**
   * Called at the very end of the pipeline's stop, after its processors stopped (sinks flushed and
   * confirmed what they held): a source that acknowledges upstream finishes that work here, so it is
   * done before the application exits. The default has nothing to finish.
   */
  async finish(): Promise<void> {}

  /** Resolves when the source is being stopped: for sources that only hold a resource open. */
  stopped(): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  /** Waits, but rejects with StoppedError as soon as the source is stopped. */
  async sleep(seconds: number): Promise<void> {
    try {
      await delay(seconds * 1000, undefined, { signal: this.#abort.signal });
    } catch (error) {
      if (this.#abort.signal.aborted) throw new StoppedError(`Source '${this.id}'`);
      throw error;
    }
  }

  /** Starts `main()` unless it is already running (a `main()` that refused to stop counts until it ends). */
  start(): void {
    if (this.#task !== undefined && !this.#finished) return;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    this.#finished = false;
    this.#task = this.#run();
  }

  /** Aborts and waits for `main()` to return, at most `timeoutSeconds`; resolves false if it refused to stop. */
  async stop(timeoutSeconds = 10): Promise<boolean> {
    const task = this.#task;
    if (task === undefined) return true;
    this.#abort.abort(new StoppedError(`Source '${this.id}'`));
    const timer = delay(timeoutSeconds * 1000, false, { ref: false });
    const stopped = await Promise.race([task.then(() => true), timer]);
    if (!stopped) this.log.warn("Source refused to stop", { timeout: timeoutSeconds });
    else this.#task = undefined;
    return stopped;
  }

  /** After an error is cleared: starts `main()` again if it ended; a source still waiting keeps going. */
  restart(): void {
    if (this.#task !== undefined && !this.#finished) return;
    this.#task = undefined;
    this.start();
  }

  async #run(): Promise<void> {
    try {
      await this.main();
    } catch (error) {
      if (this.#abort.signal.aborted && isStopSignal(error)) return;
      this.log.error("Source failed", { error });
      this.pipeline.setError(undefined, undefined, error, this);
    } finally {
      this.#finished = true;
    }
  }

  locateAddress(): string {
    return `${this.pipeline.id}.*${this.id}`;
  }

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name };
  }
}

import type { Writable } from "node:stream";
import { inspect } from "node:util";
import type { ComponentOptions } from "../component/options.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import type { AnyProcessor } from "../pipeline/chain.js";

/** The print components' constructor options: BSPump's `stream` kwarg besides `id` and `config`. */
export interface PrintOptions extends ComponentOptions {
  /** Where to write; `process.stdout` when not given. */
  stream?: Writable | undefined;
}

/**
 * One line for a value, as Python's `print()` shows it: a string as it is, anything else by
 * `util.inspect` on one line, complete (no depth, array or string length limit), without colours.
 */
export function formatLine(value: unknown): string {
  if (typeof value === "string") return value;
  return inspect(value, { depth: Infinity, breakLength: Infinity, compact: true, maxArrayLength: Infinity, maxStringLength: Infinity });
}

/**
 * A value laid out for a person, as Python's `pprint` does: `util.inspect` over lines of at most 80
 * characters with nesting indented, complete (no depth or length limit), strings quoted, colours
 * when `colors` (the stream is a terminal that has them). Keys stay in their order (pprint sorts them).
 */
export function formatPretty(value: unknown, colors = false): string {
  return inspect(value, { depth: Infinity, breakLength: 80, compact: 3, colors, maxArrayLength: Infinity, maxStringLength: Infinity });
}

/** A context as the context printers show it: without the delivery tracking the pipeline put in it. */
export function printableContext(context: Context): Record<string, unknown> {
  if (context[DELIVERY] === undefined) return context;
  const { [DELIVERY]: _delivery, ...rest } = context;
  return rest;
}

/** Whether a stream is a terminal that shows colours (tty.WriteStream.hasColors() heeds NO_COLOR and FORCE_COLOR). */
function hasColors(stream: Writable): boolean {
  const tty = stream as Writable & { isTTY?: boolean; hasColors?: () => boolean };
  return tty.isTTY === true && typeof tty.hasColors === "function" && tty.hasColors();
}

/**
 * The stream a print component writes to, with backpressure: when `write()` returns false (the
 * stream's buffer is over its highWaterMark: a slow pipe, a reader that does not read) the
 * component throttles its pipeline until the stream emits 'drain', so output is never dropped and
 * never piles up beyond what the current batch writes. Stream errors are the pipeline's errors.
 */
export class PrintOutput {
  readonly stream: Writable;
  /** Colours for pretty printing: the stream is a terminal that has them. */
  readonly colors: boolean;
  readonly #component: AnyProcessor;
  #throttled = false;
  #pending = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #listening = false;
  readonly #written = (): void => this.#settled();
  readonly #onError = (error: Error): void => {
    this.#component.log.error("The output stream failed", { error });
    this.#component.pipeline.setError(undefined, undefined, error, this.#component);
    this.#release();
    this.#wakeIdle();
  };
  readonly #onDrain = (): void => this.#release();
  readonly #onClose = (): void => {
    this.#release();
    this.#wakeIdle();
  };

  constructor(component: AnyProcessor, stream: Writable | undefined) {
    this.#component = component;
    this.stream = stream ?? process.stdout;
    this.colors = hasColors(this.stream);
  }

  /** True while the component holds its pipeline, waiting for the stream to drain. */
  get throttled(): boolean {
    return this.#throttled;
  }

  /** Writes not yet handed over by the stream. */
  get pending(): number {
    return this.#pending;
  }

  /** Called from the component's `start()`: stream errors become pipeline errors from now on. */
  start(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.stream.on("error", this.#onError);
    this.stream.on("close", this.#onClose);
  }

  /**
   * Writes `text`; `done` hears when the stream took it (or failed to). Throws when the stream is
   * closed or destroyed, so the event fails instead of vanishing.
   */
  write(text: string, done?: (error: Error | null | undefined) => void): void {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) {
      throw new Error(`The output stream of '${this.#component.locateAddress()}' is ${stream.destroyed ? "destroyed" : "ended"}`);
    }
    this.#pending++;
    const callback =
      done === undefined
        ? this.#written
        : (error: Error | null | undefined): void => {
            this.#settled();
            done(error);
          };
    if (!stream.write(text, callback) && !this.#throttled) this.#hold();
  }

  /** Called from the component's `stop()`: resolves when the stream took every write (or closed), then stops listening. */
  async stop(): Promise<void> {
    if (this.#pending > 0 && !this.stream.destroyed) {
      this.#idle ??= Promise.withResolvers<void>();
      await this.#idle.promise;
    }
    this.#release();
    if (this.#listening) {
      this.#listening = false;
      this.stream.off("error", this.#onError);
      this.stream.off("close", this.#onClose);
    }
  }

  #hold(): void {
    this.#throttled = true;
    this.stream.once("drain", this.#onDrain);
    this.#component.pipeline.throttle(this.#component, true);
  }

  #release(): void {
    if (!this.#throttled) return;
    this.#throttled = false;
    this.stream.off("drain", this.#onDrain);
    this.#component.pipeline.throttle(this.#component, false);
  }

  #settled(): void {
    if (--this.#pending === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.resolve();
  }
}

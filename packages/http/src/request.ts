import { HTTPConnectionError } from "./errors.js";

export interface RequestOptions {
  method: string;
  headers?: Record<string, string> | undefined;
  body?: Uint8Array | string | undefined;
  /** Idle time allowed: until the response headers, then between two pieces of the body; 0 for none. */
  timeoutMs: number;
  /** The component's stop signal: aborting it rejects with its reason (a StoppedError), not a connection error. */
  signal?: AbortSignal | undefined;
}

/**
 * An inactivity timer: aborts its signal once `ms` pass without `touch()`. `pause()` stops it while the
 * component itself holds the exchange up (waiting for its pipeline), so only the server is blamed.
 */
class IdleTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#ms = ms;
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get fired(): boolean {
    return this.#controller.signal.aborted;
  }

  touch(): void {
    this.pause();
    if (this.#ms > 0 && !this.fired) {
      this.#timer = setTimeout(() => this.#controller.abort(timeoutError(this.#ms)), this.#ms);
      this.#timer.unref();
    }
  }

  pause(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** A response whose body is still to be read. Call `close()` when done with it (it stops the timer). */
export class Exchange {
  readonly response: Response;
  readonly url: string;
  readonly #timer: IdleTimer;
  readonly #stop: AbortSignal | undefined;

  constructor(response: Response, url: string, timer: IdleTimer, stop: AbortSignal | undefined) {
    this.response = response;
    this.url = url;
    this.#timer = timer;
    this.#stop = stop;
  }

  get status(): number {
    return this.response.status;
  }

  /** The whole body as bytes (a Buffer); a break-off or a stall while reading is an HTTPConnectionError. */
  async bytes(): Promise<Buffer> {
    try {
      return Buffer.from(await this.response.arrayBuffer());
    } catch (error) {
      throw this.failure(error);
    } finally {
      this.close();
    }
  }

  /**
   * The body piece by piece; `hold` runs between pieces with the idle timer paused (the consumer's own
   * wait, e.g. for its pipeline, is not the server's fault).
   */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const body = this.response.body;
    if (body === null) return;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        this.#timer.pause();
        yield chunk;
        this.#timer.touch();
      }
    } catch (error) {
      throw this.failure(error);
    } finally {
      this.close();
    }
  }

  /** Reads and drops the body (so the connection can be reused); resolves at most `limit` characters of it for a message. */
  async drain(limit = 200): Promise<string> {
    try {
      const text = await this.response.text();
      return text.length > limit ? `${text.slice(0, limit)}…` : text;
    } catch {
      return "";
    } finally {
      this.close();
    }
  }

  close(): void {
    this.#timer.pause();
  }

  /** What a failure while reading means: the stop's reason when stopping, else an HTTPConnectionError. */
  failure(error: unknown): unknown {
    return failure(this.url, error, this.#stop, this.#timer);
  }
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer for ${ms / 1000} s`), { code: "ETIMEDOUT" });
}

function failure(url: string, error: unknown, stop: AbortSignal | undefined, timer: IdleTimer): unknown {
  if (stop?.aborted === true) return stop.reason ?? error;
  if (timer.fired) return new HTTPConnectionError(url, timer.signal.reason);
  return new HTTPConnectionError(url, error);
}

/**
 * One HTTP exchange with Node's fetch. A server that cannot be reached, or that breaks off or stalls,
 * is an HTTPConnectionError; a stop rejects with the stop signal's reason. Any status resolves: the
 * caller decides what it takes, and reads or drains the body.
 */
export async function send(url: string, options: RequestOptions): Promise<Exchange> {
  const timer = new IdleTimer(options.timeoutMs);
  const signal = options.signal === undefined ? timer.signal : AbortSignal.any([options.signal, timer.signal]);
  try {
    const response = await fetch(url, {
      method: options.method,
      headers: options.headers,
      body: options.body as RequestInit["body"],
      signal,
      redirect: "follow",
    });
    timer.touch();
    return new Exchange(response, url, timer, options.signal);
  } catch (error) {
    timer.pause();
    throw failure(url, error, options.signal, timer);
  }
}

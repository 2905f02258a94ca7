import { setTimeout as delay } from "node:timers/promises";
import { ConfigError, deliveryOf, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { ErrorReply } from "@redis/client";
import { RedisConnection } from "./connection.js";
import { RedisEncodeError, RedisRefusedError } from "./errors.js";

interface Held {
  list: string;
  element: Buffer | string;
  context: Context;
  event: unknown;
}

/**
 * Appends events to Redis lists (RPUSH), so that a `RedisListSource` — or any consumer popping from
 * the head — reads them in order. The list is `getList()`: `context.redis_list` when a processor set
 * it, else `list`. Strings and bytes are pushed
 * as they are, other events as JSON.
 *
 * Events are buffered and written in batches of at most `batch_size`, one RPUSH per list, one batch
 * at a time (so each list keeps the order events came in). An event settles once Redis answered its
 * RPUSH. While the server is unreachable writes are tried again, `retry_delay` doubling up to
 * `retry_delay_max`, for as long as it takes (an answer lost with the connection means a write is
 * repeated: at-least-once). A list Redis refuses to append to (the key holds another type: WRONGTYPE)
 * fails its events through the pipeline's error handling; the other lists' are written. From
 * `watermark.high` events held the pipeline is throttled, until they are down to `watermark.low`.
 * `stop()` writes what is left.
 */
export class RedisListSink extends Sink<unknown> {
  static override ConfigDefaults: ConfigValues = {
    list: "",
    batch_size: 1000,
    "watermark.high": 10000,
    "watermark.low": 5000,
    retry_delay: 0.1,
    retry_delay_max: 5,
  };

  override readonly confirmsDelivery = true;
  readonly connection: RedisConnection;
  readonly list: string;
  readonly batchSize: number;
  readonly high: number;
  readonly low: number;
  readonly #retryDelayMs: number;
  readonly #retryDelayMaxMs: number;
  #buffer: Held[] = [];
  #held = 0;
  #throttled = false;
  #writing: Promise<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | RedisConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof RedisConnection)) throw new TypeError(`RedisListSink '${this.id}': connection '${located.id}' is not a RedisConnection`);
    this.connection = located;
    const c = this.config;
    this.list = c.get("list").trim();
    this.batchSize = c.getInt("batch_size");
    this.high = c.getInt("watermark.high");
    this.low = Math.min(c.getInt("watermark.low"), this.high);
    for (const key of ["batch_size", "watermark.high"]) {
      if (!(c.getInt(key) >= 1)) throw new ConfigError(`expected an integer of at least 1, got ${c.get(key)}`, { section: c.section, key }, "PUMP_CONFIG_VALUE");
    }
    this.#retryDelayMs = c.getSeconds("retry_delay") * 1000;
    this.#retryDelayMaxMs = Math.max(c.getSeconds("retry_delay_max") * 1000, this.#retryDelayMs);
  }

  /** Events taken and not yet answered by Redis. */
  get held(): number {
    return this.#held;
  }

  /** The list an event goes to: `context.redis_list` when a processor set it, else `list`. Override for more. */
  getList(context: Context, _event: unknown): string {
    const routed = context.redis_list;
    return typeof routed === "string" && routed !== "" ? routed : this.list;
  }

  process(context: Context, event: unknown): void {
    const list = this.getList(context, event);
    if (list === "") throw new RedisEncodeError("no list: set the sink's 'list' or context.redis_list");
    this.#buffer.push({ list, element: encode(event), context, event });
    this.#held++;
    if (!this.#throttled && this.#held >= this.high) {
      this.#throttled = true;
      this.pipeline.throttle(this, true);
    }
    this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
    });
  }

  override async stop(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #write(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.batchSize);
      const byList = new Map<string, Held[]>();
      for (const held of batch) {
        const same = byList.get(held.list);
        if (same === undefined) byList.set(held.list, [held]);
        else same.push(held);
      }
      await Promise.all([...byList].map(([list, items]) => this.#push(list, items)));
      this.#held -= batch.length;
      if (this.#throttled && this.#held <= this.low) {
        this.#throttled = false;
        this.pipeline.throttle(this, false);
      }
    }
  }

  /** One RPUSH of `items` to `list`, tried until Redis answers; settles them by its answer. */
  async #push(list: string, items: Held[]): Promise<void> {
    const elements = items.map((held) => held.element);
    let wait = this.#retryDelayMs;
    for (let attempts = 1; ; attempts++) {
      try {
        await this.connection.acquire().rPush(list, elements);
        if (attempts > 1) this.log.notice("Writing to Redis works again", { list, attempts });
        for (const held of items) deliveryOf(held.context)?.done();
        return;
      } catch (error) {
        if (isRefusal(error)) {
          const refused = new RedisRefusedError(list, (error as Error).message, { cause: error });
          for (const held of items) this.pipeline.failEvent(held.context, held.event, refused, this);
          return;
        }
        this.log[attempts === 1 ? "warn" : "debug"]("Cannot write to Redis; trying again", { list, attempts, events: items.length, error });
        await delay(wait);
        wait = Math.min(wait * 2, this.#retryDelayMaxMs);
      }
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), List: this.list, Held: this.#held };
  }
}

/** Answers that say "not now" (a server loading its data, failing over, out of memory until consumers catch up): tried again. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM)\b/;

/** Redis refused the command for good (WRONGTYPE...), as opposed to a connection that broke or a server that is busy. */
function isRefusal(error: unknown): boolean {
  return error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message);
}

function encode(event: unknown): Buffer | string {
  if (typeof event === "string" || Buffer.isBuffer(event)) return event;
  if (event instanceof Uint8Array) return Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch (error) {
    throw new RedisEncodeError(`the event cannot be written as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new RedisEncodeError(`a ${typeof event} event cannot be written as JSON`);
  return json;
}

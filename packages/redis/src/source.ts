import { ConfigError, DELIVERY, Delivery, isStopSignal, Source, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { RedisConnection, type RedisBytesClient } from "./connection.js";

/** Moves up to ARGV[1] elements from the head of KEYS[1] to the tail of KEYS[2] in one step; returns them. */
const TAKE = `local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items`;

/** What a list source puts beside each event. */
export interface RedisListContext extends Context {
  /** The list the element was read from (`redis_list` is a sink's route, and is not set). */
  redis_source_list: string;
}

/**
 * Reads a Redis list as a queue, reliably: each element is moved atomically from the head of `list`
 * to the tail of `processing_list` (BLMOVE, waiting up to `block_timeout` seconds for one, then up to
 * a batch more in one step), and removed from there (LREM) once its event settled. An event that
 * failed goes back to the head of `list`, to be read again. What a stopped or killed pump left in
 * `processing_list` is put back at the head of `list` when the source starts, oldest first: nothing is
 * lost, some events may come twice (at-least-once). One source per processing list: two pumps reading
 * one list give each its own `processing_list`.
 *
 * Producers push to the tail (`RPUSH`, what `RedisListSink` does), so elements are read in order.
 * At most `prefetch` events are unsettled at a time. Elements are bytes: events are strings decoded
 * with `decode`, or Buffers with `decode=bytes` (then write `new RedisListSource<Buffer>`).
 */
export class RedisListSource<Out extends string | Buffer = string> extends Source<Out> {
  static override ConfigDefaults: ConfigValues = {
    list: "",
    processing_list: "", // "" = <list>:processing
    batch_size: 100,
    prefetch: 1000,
    block_timeout: 1,
    decode: "utf-8",
    retry_delay: 0.5,
  };

  readonly connection: RedisConnection;
  readonly list: string;
  readonly processingList: string;
  readonly batchSize: number;
  readonly prefetch: number;
  readonly #blockTimeout: number;
  readonly #decode: BufferEncoding | undefined;
  readonly #retryDelay: number;
  /** Events handed over and not settled yet. */
  #unsettled = 0;
  #roomMade: PromiseWithResolvers<void> | undefined;
  /** Acknowledgements sent and not answered yet. */
  readonly #acks = new Set<Promise<unknown>>();

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | RedisConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof RedisConnection)) throw new TypeError(`RedisListSource '${this.id}': connection '${located.id}' is not a RedisConnection`);
    this.connection = located;
    const c = this.config;
    this.list = c.get("list").trim();
    if (this.list === "") throw new ConfigError("required key is not set: the list to read", { section: c.section, key: "list" }, "PUMP_CONFIG_MISSING");
    this.processingList = c.get("processing_list").trim() || `${this.list}:processing`;
    if (this.processingList === this.list) throw new ConfigError("the processing list must not be the list read", { section: c.section, key: "processing_list" }, "PUMP_CONFIG_VALUE");
    this.batchSize = positive(c.getInt("batch_size"), c.section, "batch_size");
    this.prefetch = positive(c.getInt("prefetch"), c.section, "prefetch");
    this.#blockTimeout = c.getSeconds("block_timeout");
    const decode = c.get("decode").trim().toLowerCase();
    if (decode !== "bytes" && decode !== "" && !Buffer.isEncoding(decode)) {
      throw new ConfigError(`unknown encoding '${decode}' (or 'bytes')`, { section: c.section, key: "decode" }, "PUMP_CONFIG_VALUE");
    }
    this.#decode = decode === "bytes" || decode === "" ? undefined : decode;
    this.#retryDelay = c.getSeconds("retry_delay");
  }

  /** Events handed to the pipeline whose element is still in the processing list. */
  get unsettled(): number {
    return this.#unsettled;
  }

  async main(): Promise<void> {
    const blocking = this.connection.openBlocking();
    try {
      await this.#recover(blocking);
      while (!this.signal.aborted) {
        await this.pipeline.ready();
        if (this.#unsettled >= this.prefetch) {
          this.#roomMade ??= Promise.withResolvers();
          await Promise.race([this.#roomMade.promise, this.stopped()]);
          continue;
        }
        const elements = await this.#take(blocking);
        if (elements === undefined) continue;
        const contexts = elements.map((element) => this.#contextOf(element));
        this.#unsettled += elements.length;
        const events = (this.#decode === undefined ? elements : elements.map((element) => element.toString(this.#decode))) as Out[];
        await this.processBatch(events, contexts);
      }
    } catch (error) {
      if (!isStopSignal(error)) throw error;
    } finally {
      this.connection.closeBlocking(blocking);
    }
  }

  /** After the sinks flushed: waits for the acknowledgements of the last settled events, before the connection closes. */
  override async finish(): Promise<void> {
    while (this.#acks.size > 0) await Promise.allSettled(this.#acks);
  }

  /** The next elements, moved to the processing list; undefined when none came in `block_timeout` or the server is away. */
  async #take(client: RedisBytesClient): Promise<Buffer[] | undefined> {
    try {
      const first = await Promise.race([client.blMove(this.list, this.processingList, "LEFT", "RIGHT", this.#blockTimeout), this.stopped()]);
      if (first === null || first === undefined) return undefined;
      const room = Math.min(this.batchSize, this.prefetch - this.#unsettled) - 1;
      if (room === 0) return [first];
      const more = (await client.eval(TAKE, { keys: [this.list, this.processingList], arguments: [String(room)] })) as unknown as Buffer[];
      return [first, ...more];
    } catch (error) {
      if (isStopSignal(error)) throw error;
      this.log.warn("Cannot read the Redis list; trying again", { list: this.list, error });
      await this.sleep(this.#retryDelay);
      return undefined;
    }
  }

  /** Puts back what a previous run left unsettled in the processing list, at the head of the list, oldest first. */
  async #recover(client: RedisBytesClient): Promise<void> {
    while (!this.signal.aborted) {
      try {
        let moved = 0;
        while ((await client.lMove(this.processingList, this.list, "RIGHT", "LEFT")) !== null) moved++;
        if (moved > 0) this.log.notice("Unsettled elements of a previous run put back to be read again", { list: this.list, count: moved });
        return;
      } catch (error) {
        this.log.warn("Cannot recover the processing list; trying again", { list: this.processingList, error });
        await this.sleep(this.#retryDelay);
      }
    }
  }

  #contextOf(element: Buffer): RedisListContext {
    return { redis_source_list: this.list, [DELIVERY]: new Delivery<Buffer>((_, error) => this.#settled(element, error), element) };
  }

  /** Done: the element leaves the processing list. Failed: it goes back to the head of the list, to be read again. */
  #settled(element: Buffer, error: unknown): void {
    const client = this.connection.acquire();
    const ack =
      error === undefined
        ? client.lRem(this.processingList, 1, element)
        : client.multi().lRem(this.processingList, 1, element).lPush(this.list, element).exec();
    this.#acks.add(ack);
    ack.then(
      () => this.#acks.delete(ack),
      (ackError: unknown) => {
        this.#acks.delete(ack);
        // the element stays in the processing list: the next start puts it back (a duplicate, not a loss)
        this.log.warn("Cannot acknowledge an element; it will be read again after a restart", { list: this.processingList, error: ackError });
      },
    );
    this.#unsettled--;
    const room = this.#roomMade;
    this.#roomMade = undefined;
    room?.resolve();
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), List: this.list, ProcessingList: this.processingList, Unsettled: this.#unsettled };
  }
}

function positive(value: number, section: string, key: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`expected an integer of at least 1, got ${value}`, { section, key }, "PUMP_CONFIG_VALUE");
  return value;
}

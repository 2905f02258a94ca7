import { setTimeout as delay } from "node:timers/promises";
import {
  ConfigError,
  deliveryOf,
  Sink,
  Wakeup,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import type { ChannelModel, ConfirmChannel, Options } from "amqplib";
import { AMQP_CLOSE, AMQPConnection } from "./connection.js";
import { AMQPDeliveryError, AMQPRoutingError } from "./errors.js";
import { AMQP_EXCHANGE, AMQP_PUBLISH_PROPERTIES, AMQP_ROUTING_KEY, type AMQPSinkContext } from "./message.js";

interface Item {
  /** Order of arrival: messages put back after a lost channel are published again in this order. */
  readonly seq: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  readonly context: Context;
  readonly event: unknown;
  /** performance.now() of the first refusal by the broker (nack, channel error), for `delivery_timeout`. */
  refusedAt: number | undefined;
  refusals: number;
}

export interface AMQPSinkStats {
  /** Messages the broker confirmed. */
  confirmed: number;
  /** Publishes that were not confirmed because the channel was lost, and were published again (the broker may have had them: duplicates). */
  republished: number;
  /** Messages the broker refused (nack, channel error) and that were tried again. */
  retried: number;
  /** Events given up on. */
  failed: number;
  /** Times the sink throttled the pipeline (disconnected, or too much unconfirmed). */
  throttled: number;
  /** The most events the sink held at once (pending and unconfirmed). */
  maxBuffered: number;
}

/** One confirm channel: items published on it remember it, so a late confirm of a dead channel changes nothing. */
interface Publisher {
  readonly channel: ConfirmChannel;
  readonly model: ChannelModel;
  open: boolean;
  writable: boolean;
  error: unknown;
  /** Exchanges seen to exist on this connection. */
  readonly exchanges: Set<string>;
}

const CONTEXT = "!context";

/**
 * Publishes events to a RabbitMQ exchange with publisher confirms: an event's delivery is settled only
 * when the broker confirmed its message (for a persistent message to a durable queue: once it is on
 * disk), so an `AMQPSource` → ... → `AMQPSink` pipeline moves each message at least once.
 *
 * The exchange is `exchange` (`!context`: the context's `amqp.exchange`, as in BSPump); the routing key
 * is the context's `amqp.routing_key`, else `routing_key`; the context's `amqp.properties` (headers,
 * messageId, ...) go over the sink's `content_type` and `delivery_mode`. An event is published as is
 * when it is a Buffer or a string (UTF-8); anything else as JSON.
 *
 * Backpressure: the pipeline is throttled while the sink has no open channel (the broker is down or
 * restarting: events wait in the sink, and the messages unconfirmed when the channel was lost are
 * published again on the next one) and while it holds `watermark.high` events or `watermark.high_bytes`
 * bytes, until it is back under both low watermarks. At most `max_unconfirmed` messages are published
 * and awaiting their confirm at a time. Messages the broker refuses (a nack, a channel error such as
 * access refused) are tried again with backoff for `delivery_timeout` seconds, then given up on
 * through the pipeline's error handling, as is an event for an exchange that does not exist.
 * `stop()` waits up to `flush_timeout` for the rest to be confirmed; what is left fails.
 */
export class AMQPSink extends Sink<unknown> {
  static override ConfigDefaults: ConfigValues = {
    exchange: "amq.direct",
    routing_key: "",
    content_type: "text/plain",
    delivery_mode: 2,
    max_unconfirmed: 1000,
    "watermark.high": 5000,
    "watermark.low": 2500,
    "watermark.high_bytes": 33554432,
    "watermark.low_bytes": 16777216,
    delivery_timeout: 300.0,
    retry_delay: 0.5,
    retry_delay_max: 10.0,
    flush_timeout: 30.0,
  };

  override readonly confirmsDelivery = true;
  readonly connection: AMQPConnection;
  readonly exchange: string;
  readonly routingKey: string;
  readonly stats: AMQPSinkStats = { confirmed: 0, republished: 0, retried: 0, failed: 0, throttled: 0, maxBuffered: 0 };
  readonly #contentType: string;
  readonly #deliveryMode: 1 | 2;
  readonly #maxUnconfirmed: number;
  readonly #high: number;
  readonly #low: number;
  readonly #highBytes: number;
  readonly #lowBytes: number;
  readonly #deliveryTimeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #retryDelayMaxMs: number;
  readonly #flushTimeoutMs: number;

  #seq = 0;
  /** Waiting to be published, in `seq` order. */
  #pending: Item[] = [];
  /** Published on the current channel, awaiting the broker's confirm. */
  readonly #unconfirmed = new Map<number, Item>();
  /** Refused by the broker, waiting for their retry. */
  #backoff = 0;
  #bytes = 0;
  #publisher: Publisher | undefined;
  #throttling = false;
  #closing = false;
  #loop: Promise<void> | undefined;
  readonly #wakeup = new Wakeup();
  #stopSignal = new AbortController();

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | AMQPConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof AMQPConnection)) throw new TypeError(`AMQPSink '${this.id}': connection '${located.id}' is not an AMQPConnection`);
    this.connection = located;
    const c = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: c.section, key });
    this.exchange = c.get("exchange").trim();
    this.routingKey = c.get("routing_key");
    this.#contentType = c.get("content_type").trim();
    const mode = c.getInt("delivery_mode");
    if (mode !== 1 && mode !== 2) throw new ConfigError(`must be 1 (transient) or 2 (persistent), got ${mode}`, at("delivery_mode"), "PUMP_CONFIG_VALUE");
    this.#deliveryMode = mode;
    this.#maxUnconfirmed = positive(c.getInt("max_unconfirmed"), at("max_unconfirmed"));
    this.#high = positive(c.getInt("watermark.high"), at("watermark.high"));
    this.#low = Math.min(c.getInt("watermark.low"), this.#high);
    this.#highBytes = positive(c.getInt("watermark.high_bytes"), at("watermark.high_bytes"));
    this.#lowBytes = Math.min(c.getInt("watermark.low_bytes"), this.#highBytes);
    this.#deliveryTimeoutMs = c.getSeconds("delivery_timeout") * 1000;
    this.#retryDelayMs = positive(c.getSeconds("retry_delay"), at("retry_delay")) * 1000;
    this.#retryDelayMaxMs = Math.max(c.getSeconds("retry_delay_max") * 1000, this.#retryDelayMs);
    this.#flushTimeoutMs = c.getSeconds("flush_timeout") * 1000;
  }

  /** Events taken and not yet confirmed by the broker. */
  get buffered(): number {
    return this.#pending.length + this.#unconfirmed.size + this.#backoff;
  }

  /** Their bytes. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Messages published and awaiting their confirm. */
  get unconfirmed(): number {
    return this.#unconfirmed.size;
  }

  override start(): void {
    if (this.#loop !== undefined) return;
    this.#closing = false;
    if (this.#stopSignal.signal.aborted) this.#stopSignal = new AbortController();
    this.connection.pubsub.subscribe(AMQP_CLOSE, this.#onConnectionClose);
    // Nothing can be published until a channel is open: hold the pipeline until then.
    this.#updateThrottle();
    this.#loop = this.#run();
  }

  process(context: Context, event: unknown): void {
    const ctx = context as AMQPSinkContext;
    let exchange = this.exchange;
    if (exchange === CONTEXT) {
      const fromContext = ctx[AMQP_EXCHANGE];
      if (typeof fromContext !== "string") throw new AMQPRoutingError(`no exchange: the sink takes it from context['${AMQP_EXCHANGE}'], which is not set`);
      exchange = fromContext;
    }
    const key = ctx[AMQP_ROUTING_KEY];
    const routingKey = typeof key === "string" ? key : this.routingKey;
    const content = encode(event);
    const options: Options.Publish = { contentType: this.#contentType, deliveryMode: this.#deliveryMode, ...ctx[AMQP_PUBLISH_PROPERTIES] };
    this.#pending.push({ seq: this.#seq++, exchange, routingKey, content, options, context, event, refusedAt: undefined, refusals: 0 });
    this.#bytes += content.length;
    if (this.buffered > this.stats.maxBuffered) this.stats.maxBuffered = this.buffered;
    this.#updateThrottle();
    this.#wakeup.wake();
  }

  /** Publishes what is left and waits for its confirms, at most `flush_timeout`; then fails the rest and closes the channel. */
  override async stop(): Promise<void> {
    this.#closing = true;
    this.#wakeup.wake();
    const loop = this.#loop;
    this.#loop = undefined;
    if (loop !== undefined) {
      const timer = delay(this.#flushTimeoutMs, false, { ref: false });
      const flushed = await Promise.race([loop.then(() => true), timer]);
      this.#stopSignal.abort();
      this.#wakeup.wake();
      await loop;
      if (!flushed) this.log.warn("Stopping with unconfirmed events: they fail", { events: this.buffered });
    }
    this.connection.pubsub.unsubscribe(AMQP_CLOSE, this.#onConnectionClose);
    const left = [...this.#unconfirmed.values(), ...this.#pending];
    this.#unconfirmed.clear();
    this.#pending = [];
    if (left.length > 0) this.#giveUp(left.toSorted(bySeq), new AMQPDeliveryError(`the sink stopped before the broker confirmed ${left.length} event(s)`, left.length));
    const publisher = this.#publisher;
    this.#publisher = undefined;
    if (publisher?.open === true) {
      try {
        await publisher.channel.close();
      } catch {
        // closed meanwhile
      }
    }
    if (this.#throttling) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }

  readonly #onConnectionClose = (): void => {
    this.#updateThrottle();
    this.#wakeup.wake();
  };

  async #run(): Promise<void> {
    const stopping = this.#stopSignal.signal;
    while (!stopping.aborted) {
      if (this.#closing && this.buffered === 0) return;
      const publisher = this.#publisher;
      if (publisher === undefined || !publisher.open) {
        if (!(await this.#open(stopping))) return;
        continue;
      }
      if (this.#pending.length === 0 || this.#unconfirmed.size >= this.#maxUnconfirmed || !publisher.writable) {
        await this.#wakeup.sleep();
        continue;
      }
      await this.#publish(publisher);
    }
  }

  /** Opens a confirm channel once the connection is up; false when the sink stops first. */
  async #open(stopping: AbortSignal): Promise<boolean> {
    this.#publisher = undefined;
    this.#updateThrottle();
    let model: ChannelModel;
    try {
      model = await this.connection.waitOpen(stopping);
    } catch {
      return false;
    }
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
    } catch (error) {
      if (this.connection.acquire() === model) {
        this.log.warn("Cannot open a channel; trying again", { error });
        await this.#pause(this.#retryDelayMs, stopping);
      }
      return !stopping.aborted;
    }
    const publisher: Publisher = { channel, model, open: true, writable: true, error: undefined, exchanges: new Set([""]) };
    channel.on("error", (error: unknown) => {
      publisher.error = error;
    });
    channel.once("close", () => this.#channelClosed(publisher));
    channel.on("drain", () => {
      publisher.writable = true;
      this.#wakeup.wake();
    });
    this.#publisher = publisher;
    this.#updateThrottle();
    this.log.debug("Publishing channel open");
    return true;
  }

  /** Publishes pending messages on the channel while the confirm window and the socket allow. */
  async #publish(publisher: Publisher): Promise<void> {
    while (this.#pending.length > 0 && this.#unconfirmed.size < this.#maxUnconfirmed && publisher.writable && publisher.open) {
      const item = this.#pending[0]!;
      if (!publisher.exchanges.has(item.exchange)) {
        const exists = await this.#checkExchange(publisher, item.exchange);
        if (exists === undefined) return; // the connection went: look again
        if (!exists) {
          this.#pending.shift();
          this.#bytes -= item.content.length;
          this.#giveUp([item], new AMQPRoutingError(`no exchange '${item.exchange}' in vhost '${this.connection.vhost}'`));
          continue;
        }
        continue;
      }
      this.#pending.shift();
      this.#unconfirmed.set(item.seq, item);
      let written: boolean;
      try {
        written = publisher.channel.publish(item.exchange, item.routingKey, item.content, item.options, (error: unknown) => this.#confirmed(publisher, item, error));
      } catch (error) {
        // A bad argument (e.g. a header table too big) is about this event only.
        this.#unconfirmed.delete(item.seq);
        if (!publisher.open) {
          this.#putBack([item]);
          return;
        }
        this.#bytes -= item.content.length;
        this.#giveUp([item], new AMQPDeliveryError(`cannot publish: ${(error as Error).message}`, 1, { cause: error }));
        continue;
      }
      if (!written) publisher.writable = false;
    }
  }

  /** Whether an exchange exists (undefined: could not tell, the connection is gone), asked on a channel of its own, as a failed check closes it. */
  async #checkExchange(publisher: Publisher, exchange: string): Promise<boolean | undefined> {
    let channel;
    try {
      channel = await publisher.model.createChannel();
    } catch {
      return undefined;
    }
    channel.on("error", () => {});
    try {
      await channel.checkExchange(exchange);
      publisher.exchanges.add(exchange);
      await channel.close().catch(() => {});
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return false;
      return undefined;
    }
  }

  #confirmed(publisher: Publisher, item: Item, error: unknown): void {
    if (this.#unconfirmed.get(item.seq) !== item) return;
    this.#unconfirmed.delete(item.seq);
    if (error === null || error === undefined) {
      this.#bytes -= item.content.length;
      this.stats.confirmed++;
      if (item.refusals > 0) this.log.debug("Message confirmed after being refused", { refusals: item.refusals });
      deliveryOf(item.context)?.done();
      this.#updateThrottle();
      this.#wakeup.wake();
      return;
    }
    if (!publisher.open || (error as Error).message === "channel closed") {
      // Lost with the channel: the broker may or may not have it; publish it again.
      this.stats.republished++;
      // A channel closed by the broker for an error (not by a lost connection) counts as a refusal.
      if (publisher.error !== undefined && this.connection.acquire() === publisher.model) this.#refused(item, publisher.error);
      else this.#putBack([item]);
      return;
    }
    this.#refused(item, error);
  }

  /** The broker refused a message: try again after a backoff, or give up after `delivery_timeout`. */
  #refused(item: Item, error: unknown): void {
    const now = performance.now();
    item.refusedAt ??= now;
    item.refusals++;
    if (now - item.refusedAt >= this.#deliveryTimeoutMs) {
      this.#bytes -= item.content.length;
      this.#giveUp([item], new AMQPDeliveryError(`the broker refused the message ${item.refusals} time(s): ${(error as Error)?.message ?? String(error)}`, 1, { cause: error }));
      this.#updateThrottle();
      this.#wakeup.wake();
      return;
    }
    this.stats.retried++;
    if (item.refusals === 1) this.log.warn("The broker refused a message; trying again", { error, exchange: item.exchange });
    const wait = Math.min(this.#retryDelayMs * 2 ** (item.refusals - 1), this.#retryDelayMaxMs);
    this.#backoff++;
    setTimeout(() => {
      this.#backoff--;
      this.#putBack([item]);
    }, wait).unref();
  }

  #channelClosed(publisher: Publisher): void {
    publisher.open = false;
    if (this.#publisher === publisher) this.#publisher = undefined;
    // Whatever amqplib did not report (it reports each unconfirmed publish with "channel closed") goes back too.
    const lost = [...this.#unconfirmed.values()];
    this.#unconfirmed.clear();
    if (lost.length > 0) {
      this.stats.republished += lost.length;
      this.#putBack(lost);
    }
    if (publisher.error !== undefined) this.log.warn("The publishing channel closed", { error: publisher.error });
    this.#updateThrottle();
    this.#wakeup.wake();
  }

  /** Puts messages back among the pending ones, in their original order. */
  #putBack(items: Item[]): void {
    if (this.#closing && this.#stopSignal.signal.aborted) {
      this.#bytes -= items.reduce((sum, item) => sum + item.content.length, 0);
      this.#giveUp(items, new AMQPDeliveryError("the sink stopped before the broker confirmed the event", items.length));
      return;
    }
    this.#pending = [...this.#pending, ...items].toSorted(bySeq);
    this.#updateThrottle();
    this.#wakeup.wake();
  }

  /**
   * The sink gives up on events: the pipeline's error handling decides, as for an event a processor
   * failed on. Hard (the default): the pipeline stops and the deliveries fail (an AMQP source requeues
   * the messages). Soft or routed: the events are dropped (or routed) and confirmed.
   */
  #giveUp(items: Item[], error: Error): void {
    this.stats.failed += items.length;
    for (const item of items) {
      const hard = this.pipeline.setError(item.context, item.event, error, this);
      const delivery = deliveryOf(item.context);
      if (delivery === undefined) continue;
      if (hard) delivery.fail(error);
      else delivery.done();
    }
  }

  #updateThrottle(): void {
    const count = this.buffered;
    const bytes = this.#bytes;
    const connected = this.#publisher?.open === true;
    const full = count >= this.#high || bytes >= this.#highBytes;
    const drained = count <= this.#low && bytes <= this.#lowBytes;
    if (!this.#throttling && (!connected || full) && !this.#closing) {
      this.#throttling = true;
      this.stats.throttled++;
      this.pipeline.throttle(this, true);
    } else if (this.#throttling && connected && drained) {
      this.#throttling = false;
      this.pipeline.throttle(this, false);
    }
  }



  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await delay(ms, undefined, { signal });
    } catch {
      // stopping
    }
  }

  override restGet(): Record<string, unknown> {
    return {
      ...super.restGet(),
      Exchange: this.exchange,
      RoutingKey: this.routingKey,
      Connected: this.#publisher?.open === true,
      Buffered: this.buffered,
      Unconfirmed: this.#unconfirmed.size,
      Stats: { ...this.stats },
    };
  }
}

function bySeq(a: Item, b: Item): number {
  return a.seq - b.seq;
}

function positive(value: number, at: { section: string; key: string }): number {
  if (!(value > 0)) throw new ConfigError(`must be more than 0, got ${value}`, at, "PUMP_CONFIG_VALUE");
  return value;
}

/** Buffers and strings as they are (strings in UTF-8), anything else as JSON. */
export function encode(event: unknown): Buffer {
  if (Buffer.isBuffer(event)) return event;
  if (event instanceof Uint8Array) return Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  if (typeof event === "string") return Buffer.from(event, "utf8");
  const json = JSON.stringify(event);
  if (json === undefined) throw new AMQPRoutingError(`cannot publish ${typeof event}: it has no JSON form`);
  return Buffer.from(json, "utf8");
}

import { setTimeout as delay } from "node:timers/promises";
import {
  ConfigError,
  DELIVERY,
  Delivery,
  isStopSignal,
  Source,
  Wakeup,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { AMQPConnection } from "./connection.js";
import { AMQP_METHOD, AMQP_PROPERTIES, fullMessage, methodOf, type AMQPMessage } from "./message.js";

export interface AMQPSourceStats {
  /** Messages the broker delivered. */
  received: number;
  /** Of them, those the broker flagged as delivered before (a requeue, or a channel lost before the ack): possible duplicates. */
  redelivered: number;
  /** Acknowledged after the pipeline settled them. */
  acked: number;
  /** Given back to the queue (failed with `on_failure = requeue`, or not handed over when the source stopped). */
  requeued: number;
  /** Rejected without requeue (failed with `on_failure = dead-letter`): the queue's dead-letter exchange gets them, if it has one. */
  rejected: number;
  /** Settled after their channel was gone: the broker has already put them back, and delivers them again. */
  orphaned: number;
}

/** One channel's consumption: deliveries remember theirs, so an ack never goes to a newer channel. */
interface Consumption {
  readonly channel: Channel;
  open: boolean;
  cancelled: boolean;
  consumerTag: string;
  /** Delivered, not yet handed to the pipeline. */
  readonly buffer: ConsumeMessage[];
}

interface Token {
  readonly consumption: Consumption;
  readonly message: ConsumeMessage;
}

const FAILURE_POLICIES = ["requeue", "dead-letter", "reject"] as const;

/**
 * Consumes a RabbitMQ queue. Each event is a message body (a Buffer); its context has BSPump's
 * `amqp:method` (exchange, routing key, delivery tag, redelivered flag) and `amqp:properties`.
 *
 * At-least-once: each message carries a `Delivery` and is acknowledged only once the pipeline settled
 * it — a sink that confirms (an `AMQPSink` with publisher confirms, a database sink) settles it when
 * the server has the event. A failed delivery (a hard error, a sink that gave up) is given back to the
 * queue (`on_failure = requeue`, the default) or rejected without requeue (`dead-letter`: the queue's
 * dead-letter exchange gets it). Events left over when the pipeline stops are always requeued.
 * `prefetch_count` bounds the messages held unacknowledged, which bounds the memory the source uses
 * while its pipeline is slow or throttled: the broker stops sending.
 *
 * The connection may come and go: messages unacknowledged when a channel is lost are delivered
 * again by the broker (flagged redelivered, counted in `stats.redelivered`); the source consumes again
 * as soon as the connection is back.
 */
export class AMQPSource<Out = Buffer> extends Source<Out> {
  static override ConfigDefaults: ConfigValues = {
    queue: "q",
    prefetch_count: 1000,
    on_failure: "requeue",
    drain_timeout: 10.0,
    retry_delay: 5.0,
  };

  readonly connection: AMQPConnection;
  readonly queue: string;
  readonly prefetchCount: number;
  readonly onFailure: "requeue" | "dead-letter";
  readonly stats: AMQPSourceStats = { received: 0, redelivered: 0, acked: 0, requeued: 0, rejected: 0, orphaned: 0 };
  readonly #drainTimeout: number;
  readonly #retryDelay: number;
  #consumption: Consumption | undefined;
  #inflight = 0;
  #draining = false;
  readonly #wakeup = new Wakeup();
  #settledAll: PromiseWithResolvers<void> | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | AMQPConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof AMQPConnection)) throw new TypeError(`${new.target.name} '${this.id}': connection '${located.id}' is not an AMQPConnection`);
    this.connection = located;
    const c = this.config;
    this.queue = c.get("queue").trim();
    if (this.queue === "") throw new ConfigError("the queue to consume is not set", { section: c.section, key: "queue" }, "PUMP_CONFIG_MISSING");
    this.prefetchCount = c.getInt("prefetch_count");
    if (!(this.prefetchCount >= 1 && this.prefetchCount <= 65535)) {
      throw new ConfigError(`must be 1 to 65535, got ${this.prefetchCount}`, { section: c.section, key: "prefetch_count" }, "PUMP_CONFIG_VALUE");
    }
    const policy = c.get("on_failure").trim().toLowerCase();
    if (!(FAILURE_POLICIES as readonly string[]).includes(policy)) {
      throw new ConfigError(`must be 'requeue' or 'dead-letter', got '${policy}'`, { section: c.section, key: "on_failure" }, "PUMP_CONFIG_VALUE");
    }
    this.onFailure = policy === "requeue" ? "requeue" : "dead-letter";
    this.#drainTimeout = c.getSeconds("drain_timeout");
    this.#retryDelay = c.getSeconds("retry_delay");
  }

  /** Messages handed to the pipeline and not settled yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Messages delivered by the broker and not yet handed to the pipeline. */
  get buffered(): number {
    return this.#consumption?.buffer.length ?? 0;
  }

  /** The event made of a message: its body. `AMQPFullMessageSource` gives the whole message instead. */
  protected toEvent(message: ConsumeMessage): Out {
    return message.content as Out;
  }

  async main(): Promise<void> {
    for (;;) {
      const model = await this.connection.waitOpen(this.signal);
      try {
        await this.#consume(model);
      } catch (error) {
        if (this.signal.aborted) throw error;
        if (this.connection.acquire() === model) {
          // The connection is up but the channel failed (a missing queue, access refused): not in a tight loop.
          this.log.warn("Cannot consume from the queue; trying again", { queue: this.queue, error, in: this.#retryDelay });
          await this.sleep(this.#retryDelay);
        }
        continue;
      }
      if (this.#draining) {
        await this.stopped();
        return;
      }
      if (this.connection.acquire() === model) await this.sleep(this.#retryDelay);
    }
  }

  async #consume(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    const consumption: Consumption = { channel, open: true, cancelled: false, consumerTag: "", buffer: [] };
    let channelError: unknown;
    channel.on("error", (error: unknown) => {
      channelError = error;
    });
    channel.once("close", () => {
      consumption.open = false;
      this.#wakeup.wake();
    });
    try {
      await channel.prefetch(this.prefetchCount);
      const { consumerTag } = await channel.consume(this.queue, (message) => this.#received(consumption, message), { noAck: false });
      consumption.consumerTag = consumerTag;
      this.#consumption = consumption;
      this.log.info("Consuming", { queue: this.queue, prefetch: this.prefetchCount });
      await this.#pump(consumption);
    } finally {
      if (this.#consumption === consumption) this.#consumption = undefined;
      if (consumption.open) {
        // Not handed over: back to the queue (closing the channel would do it too, but not at once).
        this.#requeue(consumption);
        try {
          await channel.close();
        } catch {
          // closed meanwhile
        }
      }
    }
    if (channelError !== undefined && !this.signal.aborted) throw channelError;
    if (consumption.cancelled && !this.#draining) this.log.warn("The broker cancelled the consumer (queue deleted?)", { queue: this.queue });
  }

  #received(consumption: Consumption, message: ConsumeMessage | null): void {
    if (message === null) {
      consumption.cancelled = true;
    } else {
      this.stats.received++;
      if (message.fields.redelivered) this.stats.redelivered++;
      consumption.buffer.push(message);
    }
    this.#wakeup.wake();
  }

  /** Hands what the broker delivered to the pipeline, a batch at a time, until the channel closes or the source drains. */
  async #pump(consumption: Consumption): Promise<void> {
    const buffer = consumption.buffer;
    for (;;) {
      if (this.#draining) {
        // drain() took over; keep the channel open for the acks of what is in flight, until the stop.
        await Promise.race([this.stopped(), this.#closed(consumption)]);
        return;
      }
      if (!consumption.open || consumption.cancelled) return;
      if (buffer.length === 0) {
        await this.#idle();
        continue;
      }
      await this.pipeline.ready();
      if (!consumption.open || this.#draining || buffer.length === 0) continue;
      const messages = buffer.splice(0);
      const events: Out[] = [];
      const contexts: Context[] = [];
      for (const message of messages) {
        events.push(this.toEvent(message));
        contexts.push({
          [AMQP_METHOD]: methodOf(message),
          [AMQP_PROPERTIES]: message.properties,
          [DELIVERY]: new Delivery<Token>(this.#settle, { consumption, message }),
        });
      }
      this.#inflight += messages.length;
      try {
        await this.processBatch(events, contexts);
      } catch (error) {
        // The pipeline refused the batch before taking it (it is stopping): none of it was settled.
        for (const context of contexts) {
          const delivery = context[DELIVERY];
          if (delivery !== undefined && !delivery.settled) delivery.fail(error);
        }
        throw error;
      }
    }
  }

  readonly #settle = (delivery: Delivery<Token>, error: unknown): void => {
    const { consumption, message } = delivery.token;
    this.#inflight--;
    if (this.#inflight === 0) this.#settledAll?.resolve();
    if (!consumption.open) {
      this.stats.orphaned++;
      return;
    }
    try {
      if (error === undefined) {
        consumption.channel.ack(message);
        this.stats.acked++;
      } else if (this.onFailure === "requeue" || isStopSignal(error)) {
        consumption.channel.nack(message, false, true);
        this.stats.requeued++;
      } else {
        consumption.channel.nack(message, false, false);
        this.stats.rejected++;
        this.log.debug("Message rejected (dead-lettered)", { queue: this.queue, deliveryTag: message.fields.deliveryTag, error });
      }
    } catch {
      // The channel is closing: the broker puts the message back itself.
      this.stats.orphaned++;
    }
  };

  #requeue(consumption: Consumption): void {
    for (const message of consumption.buffer.splice(0)) {
      try {
        consumption.channel.nack(message, false, true);
        this.stats.requeued++;
      } catch {
        this.stats.orphaned++;
      }
    }
  }


  #idle(): Promise<void> {
    return Promise.race([this.#wakeup.sleep(), this.stopped()]);
  }

  #closed(consumption: Consumption): Promise<void> {
    return new Promise((resolve) => {
      if (!consumption.open) resolve();
      else consumption.channel.once("close", () => resolve());
    });
  }

  /**
   * The pipeline begins to stop: stop consuming, give back what was not handed over, and wait (at
   * most `drain_timeout`) until what is in the pipeline settled, so it is acknowledged and not
   * delivered again.
   */
  override async drain(): Promise<void> {
    this.#draining = true;
    this.#wakeup.wake();
    const consumption = this.#consumption;
    if (consumption === undefined || !consumption.open) return;
    try {
      if (consumption.consumerTag !== "") await consumption.channel.cancel(consumption.consumerTag);
    } catch {
      // the channel closed meanwhile: the broker requeues everything unacknowledged
    }
    this.#requeue(consumption);
    // Events parked on a hard error settle only when the pipeline stops: no use waiting for them.
    const deadline = performance.now() + this.#drainTimeout * 1000;
    while (this.#inflight > 0 && !this.pipeline.isError() && performance.now() < deadline) {
      this.#settledAll ??= Promise.withResolvers<void>();
      await Promise.race([this.#settledAll.promise, delay(50, undefined, { ref: false })]);
    }
    this.#settledAll = undefined;
    if (this.#inflight > 0) this.log.warn("Stopping with messages still in the pipeline: they go back to the queue", { messages: this.#inflight });
  }

  override async stop(timeoutSeconds?: number): Promise<boolean> {
    const stopped = await super.stop(timeoutSeconds);
    this.#draining = false;
    return stopped;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Queue: this.queue, Prefetch: this.prefetchCount, Inflight: this.#inflight, Buffered: this.buffered, Stats: { ...this.stats } };
  }
}

/**
 * An `AMQPSource` whose events are the whole messages (`AMQPMessage`): body, exchange, routing key,
 * delivery tag, redelivered flag, properties and headers. (BSPump's class of that name is broken; this
 * one gives what it meant to.)
 */
export class AMQPFullMessageSource extends AMQPSource<AMQPMessage> {
  protected override toEvent(message: ConsumeMessage): AMQPMessage {
    return fullMessage(message);
  }
}

import { deliveryOf, Pipeline, Sink, Source, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { AMQPConnection, AMQPSink, AMQPSource } from "../../src/index.js";
import { Broker, createApp, runApp, unique, until } from "../helpers.js";

/** A slow server-backed sink: it confirms a few buffered events every few milliseconds. */
class SlowSink extends Sink<Buffer> {
  override readonly confirmsDelivery = true;
  readonly #held: Context[] = [];
  confirmed = 0;
  #timer: NodeJS.Timeout | undefined;

  override start(): void {
    this.#timer = setInterval(() => {
      for (const context of this.#held.splice(0, 5)) {
        deliveryOf(context)?.done();
        this.confirmed++;
      }
    }, 2);
  }

  override stop(): void {
    clearInterval(this.#timer);
    for (const context of this.#held.splice(0)) deliveryOf(context)?.done();
  }

  process(context: Context): void {
    this.#held.push(context);
  }
}

/** Produces `total` events in batches, as fast as the pipeline lets it. */
class Burst extends Source<string> {
  total = 0;
  batch = 100;
  produced = 0;

  async main(): Promise<void> {
    while (this.produced < this.total) {
      await this.pipeline.ready();
      const events = Array.from({ length: Math.min(this.batch, this.total - this.produced) }, (_, k) => `e${this.produced + k}`);
      this.produced += events.length;
      await this.processBatch(events);
    }
    await this.stopped();
  }
}

describeWithServer("AMQP backpressure against RabbitMQ", "AMQP_URL", (url) => {
  const broker = new Broker(url);
  const queues: string[] = [];
  const conf = `[connection:AMQPConnection]\nurl=${url}\n`;
  afterAll(async () => {
    await broker.delete(...queues);
    await broker.close();
  });

  it("a slow sink holds the source: never more than prefetch_count messages in the pump, the rest stays in the queue", async () => {
    const input = unique("slow");
    queues.push(input);
    await broker.queue(input);
    const N = 3000;
    const prefetch = 50;
    await broker.publish(input, Array.from({ length: N }, (_, n) => String(n)));
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Slow");
    const sink = new SlowSink(app, pipeline);
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input, prefetch_count: prefetch } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    let maxHeld = 0;
    let ackedThen = 0;
    let shortfall = Infinity;
    const sampler = setInterval(() => {
      maxHeld = Math.max(maxHeld, source.inflight + source.buffered);
    }, 1);
    const pump = runApp(app);
    try {
      await until(() => sink.confirmed >= N / 4, "a quarter of the messages");
      // What the broker still holds, against what the pump acknowledged by the time it answered.
      const queued = await broker.count(input);
      ackedThen = source.stats.acked;
      shortfall = N - ackedThen - queued;
      await until(() => source.stats.acked === N, "every message");
    } finally {
      clearInterval(sampler);
    }
    expect(await pump.stop()).toBe(0);
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(prefetch);
    // Under way, the broker held everything not yet acknowledged but at most prefetch_count: the pump took nothing ahead of the sink.
    expect(ackedThen).toBeLessThan(N);
    expect(shortfall).toBeLessThanOrEqual(prefetch);
    expect(await broker.count(input)).toBe(0);
  });

  it("the sink throttles a fast source at its high watermark and releases it under the low one", async () => {
    const output = unique("burst");
    queues.push(output);
    await broker.queue(output);
    const N = 20000;
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Burst");
    const source = new Burst(app, pipeline);
    source.total = N;
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", {
      config: { exchange: "", routing_key: output, max_unconfirmed: 100, "watermark.high": 300, "watermark.low": 100 },
    });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(() => sink.stats.confirmed === N, "every event confirmed");
    expect(await pump.stop()).toBe(0);
    expect(sink.stats.throttled).toBeGreaterThan(1);
    // One batch may land on top of the high watermark before the throttle takes effect.
    expect(sink.stats.maxBuffered).toBeLessThanOrEqual(300 + source.batch);
    expect(await broker.count(output)).toBe(N);
  });
});

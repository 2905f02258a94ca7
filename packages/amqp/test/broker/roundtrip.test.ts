import { deliveryOf, Pipeline, Processor, Sink, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { AMQPConnection, AMQPFullMessageSource, AMQPRoutingError, AMQPSink, AMQPSource, type AMQPMessage } from "../../src/index.js";
import { Broker, UnitTestSink, createApp, UnitTestSource, runApp, settlements, unique, until } from "../helpers.js";

/** Confirms each event itself; fails the ones whose body is "bad" (a sink that gave up on them). */
class PickySink extends Sink<Buffer> {
  override readonly confirmsDelivery = true;
  readonly seen: string[] = [];

  process(context: Context, event: Buffer): void {
    const body = event.toString();
    this.seen.push(body);
    if (body === "bad") deliveryOf(context)?.fail(new Error("refused"));
    else deliveryOf(context)?.done();
  }
}

/** Turns a message into an event for the sink: routed by its body. */
class Route extends Processor<Buffer, Buffer> {
  process(context: Context, event: Buffer): Buffer {
    const n = Number(event.toString());
    context["amqp.routing_key"] = n % 2 === 0 ? "even" : "odd";
    context["amqp.properties"] = { messageId: `m${n}`, headers: { n } };
    return event;
  }
}

describeWithServer("AMQPSource / AMQPSink against RabbitMQ", "AMQP_URL", (url) => {
  const broker = new Broker(url);
  const queues: string[] = [];
  const conf = `[connection:AMQPConnection]\nurl=${url}\n`;
  afterAll(async () => {
    await broker.delete(...queues);
    await broker.close();
  });
  const queue = async (name: string, options = {}): Promise<string> => {
    queues.push(name);
    await broker.queue(name, options);
    return name;
  };

  it("moves every message from a queue through the pump to an exchange, routed by the context, acknowledging each after its confirm", async () => {
    const input = await queue(unique("in"));
    const even = await queue(unique("even"));
    const odd = await queue(unique("odd"));
    const exchange = "amq.direct";
    const evenKey = unique("k-even");
    const oddKey = unique("k-odd");
    await broker.bind(even, exchange, evenKey);
    await broker.bind(odd, exchange, oddKey);
    const N = 1000;
    await broker.publish(input, Array.from({ length: N }, (_, n) => String(n)));

    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Copy");
    const route = new Route(app, pipeline);
    const rename = new (class extends Processor<Buffer, Buffer> {
      process(context: Context, event: Buffer): Buffer {
        context["amqp.routing_key"] = context["amqp.routing_key"] === "even" ? evenKey : oddKey;
        return event;
      }
    })(app, pipeline, { id: "Rename" });
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input, prefetch_count: 100 } });
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange, max_unconfirmed: 50 } });
    pipeline.build(source, route, rename, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(async () => (await broker.count(even)) + (await broker.count(odd)) >= N, "every message copied");
    await until(() => source.stats.acked === N, "every message acknowledged");
    expect(await pump.stop()).toBe(0);
    expect(await broker.count(input)).toBe(0);
    const evens = await broker.drain(even);
    const odds = await broker.drain(odd);
    expect(evens).toHaveLength(N / 2);
    expect(odds).toHaveLength(N / 2);
    for (const m of [...evens, ...odds]) {
      const n = Number(m.content.toString());
      expect(m.fields.routingKey).toBe(n % 2 === 0 ? evenKey : oddKey);
      expect(m.properties.messageId).toBe(`m${n}`);
      expect(m.properties.headers).toMatchObject({ n });
      expect(m.properties.contentType).toBe("text/plain");
      expect(m.properties.deliveryMode).toBe(2);
    }
    expect(sink.stats).toMatchObject({ confirmed: N, failed: 0 });
    expect(source.stats).toMatchObject({ received: N, acked: N, requeued: 0, rejected: 0 });
  });

  it("settles a sink event's delivery only once the broker confirmed it; writes strings, Buffers and JSON", async () => {
    const target = await queue(unique("settle"));
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Write");
    const feed = new UnitTestSource(app, pipeline);
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "", routing_key: target, content_type: "application/octet-stream" } });
    pipeline.build(feed, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await pump.started;
    await until(() => pipeline.isReady(), "the channel to open");
    const { settled, context } = settlements();
    await feed.feed(["text", Buffer.from([0, 255]), { a: 1 }], [context(0), context(1), context(2)]);
    await until(() => settled.size === 3, "three confirms");
    expect([...settled.values()]).toEqual(["done", "done", "done"]);
    expect(sink.stats.confirmed).toBe(3);
    expect(await pump.stop()).toBe(0);
    const got = await broker.drain(target);
    expect(got.map((m) => m.content)).toEqual([Buffer.from("text"), Buffer.from([0, 255]), Buffer.from('{"a":1}')]);
    expect(got[0]!.properties.contentType).toBe("application/octet-stream");
  });

  it("AMQPFullMessageSource gives the whole message: body, routing key, properties and headers", async () => {
    const input = await queue(unique("full"));
    await broker.publish(input, ["one", "two"], { headers: { tenant: "acme", n: 7 }, messageId: "id-1", contentType: "text/x-test", correlationId: "c" });
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Full");
    const collect = new UnitTestSink<AMQPMessage>(app, pipeline);
    const source = new AMQPFullMessageSource(app, pipeline, "AMQPConnection", { config: { queue: input } });
    pipeline.build(source, collect);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(() => collect.events.length === 2 && source.stats.acked === 2, "both messages");
    expect(await pump.stop()).toBe(0);
    const [first] = collect.events;
    expect(first!.body.toString()).toBe("one");
    expect(first!.routingKey).toBe(input);
    expect(first!.exchange).toBe("");
    expect(first!.redelivered).toBe(false);
    expect(first!.headers).toEqual({ tenant: "acme", n: 7 });
    expect(first!.properties).toMatchObject({ messageId: "id-1", contentType: "text/x-test", correlationId: "c", deliveryMode: 2 });
    expect(collect.contexts[0]!["amqp:method"]).toMatchObject({ routingKey: input, redelivered: false });
    expect(await broker.count(input)).toBe(0);
  });

  it("a failed delivery goes back to the queue (on_failure=requeue) and comes again, flagged redelivered", async () => {
    const input = await queue(unique("requeue"));
    await broker.publish(input, ["a", "bad", "b"]);
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Requeue");
    const sink = new PickySink(app, pipeline);
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(() => sink.seen.filter((s) => s === "bad").length >= 3, "the bad message three times");
    expect(await pump.stop()).toBe(0);
    expect(sink.seen.filter((s) => s !== "bad")).toEqual(["a", "b"]);
    expect(source.stats.acked).toBe(2);
    expect(source.stats.requeued).toBeGreaterThanOrEqual(2);
    expect(source.stats.redelivered).toBeGreaterThanOrEqual(2);
    const left = await broker.drain(input);
    expect(left.map((m) => m.content.toString())).toEqual(["bad"]);
  });

  it("a failed delivery is dead-lettered with on_failure=dead-letter", async () => {
    const dead = await queue(unique("dlq"));
    const input = await queue(unique("dl-in"), { arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead } });
    await broker.publish(input, ["a", "bad", "b"]);
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "DeadLetter");
    const sink = new PickySink(app, pipeline);
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input, on_failure: "dead-letter" } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(async () => (await broker.count(dead)) === 1, "the bad message in the dead-letter queue");
    expect(await pump.stop()).toBe(0);
    expect(sink.seen).toEqual(["a", "bad", "b"]);
    expect(source.stats).toMatchObject({ acked: 2, rejected: 1, requeued: 0 });
    expect(await broker.count(input)).toBe(0);
    const [letter] = await broker.drain(dead);
    expect(letter!.content.toString()).toBe("bad");
    expect(letter!.properties.headers?.["x-death"]?.[0]).toMatchObject({ reason: "rejected", queue: input });
  });

  it("a hard error requeues the failed message and, on stop, the rest of its batch; nothing is acknowledged that was not settled", async () => {
    const input = await queue(unique("hard"));
    await broker.publish(input, ["1", "2", "boom", "3", "4"]);
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Hard");
    const collect = new UnitTestSink<Buffer>(app, pipeline);
    const boom = new (class extends Processor<Buffer, Buffer> {
      process(_context: Context, event: Buffer): Buffer {
        if (event.toString() === "boom") throw new Error("boom");
        return event;
      }
    })(app, pipeline, { id: "Boom" });
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input } });
    pipeline.build(source, boom, collect);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await until(() => pipeline.isError() && source.stats.received >= 5, "the hard error");
    expect(await pump.stop()).toBe(0);
    const acked = source.stats.acked;
    expect(collect.events.map(String)).toEqual(["1", "2"].slice(0, acked));
    const left = (await broker.drain(input)).map((m) => m.content.toString()).toSorted();
    expect(left).toEqual(["boom", "3", "4", ...["1", "2"].slice(acked)].toSorted());
  });

  it("an event for an exchange that does not exist goes through the pipeline's error handling; the channel keeps working", async () => {
    const target = await queue(unique("after-missing"));
    const app = createApp(conf);
    app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const errors: unknown[] = [];
    const pipeline = new (class extends Pipeline {
      override handleError(error: unknown): boolean {
        errors.push(error);
        return true; // soft: drop it and go on
      }
    })(app, "Missing");
    const feed = new UnitTestSource(app, pipeline);
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "!context" } });
    pipeline.build(feed, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    await pump.started;
    await until(() => pipeline.isReady(), "the channel to open");
    const { settled, context } = settlements();
    const missing = unique("no-such-exchange");
    await feed.feed(
      ["lost", "kept"],
      [context(0, { "amqp.exchange": missing }), context(1, { "amqp.exchange": "", "amqp.routing_key": target })],
    );
    await until(() => settled.size === 2, "both settled");
    expect(await pump.stop()).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AMQPRoutingError);
    expect((errors[0] as Error).message).toContain(missing);
    expect(settled.get(0)).toBe("done"); // a soft error confirms (drops) the event
    expect(settled.get(1)).toBe("done");
    expect((await broker.drain(target)).map((m) => m.content.toString())).toEqual(["kept"]);
    expect(sink.stats).toMatchObject({ confirmed: 1, failed: 1 });
  });
});

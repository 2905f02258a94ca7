import { Pipeline, Processor, Source, type Context } from "@pump/core";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { AMQPConnection, AMQPSink, AMQPSource } from "../../src/index.js";
import { Broker, createApp, freePort, rabbitmq, runApp, TcpProxy, unique, until } from "../helpers.js";

/** Lets events through, but holds the one at `at` until `open()`: the test decides when the stream goes on. */
class Gate extends Processor<Buffer, Buffer> {
  at = Infinity;
  passed = 0;
  readonly #gate = Promise.withResolvers<void>();

  open(): void {
    this.#gate.resolve();
  }

  process(_context: Context, event: Buffer): Buffer | Promise<Buffer> {
    if (this.passed++ === this.at) return this.#gate.promise.then(() => event);
    return event;
  }
}

/** Produces `total` numbered events in batches, as fast as the pipeline lets it. */
class Numbers extends Source<string> {
  total = 0;
  produced = 0;

  async main(): Promise<void> {
    while (this.produced < this.total) {
      await this.pipeline.ready();
      const events = Array.from({ length: Math.min(100, this.total - this.produced) }, (_, k) => String(this.produced + k));
      this.produced += events.length;
      await this.processBatch(events);
    }
    await this.stopped();
  }
}

describeWithServer("AMQP faults against RabbitMQ", "AMQP_URL", (url) => {
  const broker = new Broker(url);
  const queues: string[] = [];
  afterAll(async () => {
    await broker.delete(...queues);
    await broker.close();
  });

  it("a broker refusing connections at start: the pump waits (sink throttled, source idle) and moves everything once it is reachable", async () => {
    const input = unique("late-in");
    const output = unique("late-out");
    queues.push(input, output);
    await broker.queue(input);
    await broker.queue(output);
    const N = 300;
    await broker.publish(input, Array.from({ length: N }, (_, n) => `m${n}`));

    const target = new URL(url);
    const proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5672) });
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const app = createApp(`[connection:AMQPConnection]\nurl=${viaProxy.toString()}\nreconnect_delay=0.1\nreconnect_delay_max=0.5\n`);
    const connection = app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Late");
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input } });
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "", routing_key: output } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    try {
      await pump.started;
      await until(() => connection.stats.attempts >= 3, "three refused connection attempts");
      expect(connection.isOpen).toBe(false);
      expect(pipeline.getThrottles().has(sink)).toBe(true);
      expect(source.stats.received).toBe(0);
      await proxy.open();
      await until(async () => (await broker.count(output)) === N && source.stats.acked === N, "every message moved");
      expect(await pump.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
    expect(connection.stats.connects).toBe(1);
    expect(await broker.count(input)).toBe(0);
    expect((await broker.drain(output)).map((m) => m.content.toString())).toEqual(Array.from({ length: N }, (_, n) => `m${n}`));
  });

  it("the connection cut while confirms are outstanding: the sink publishes the unconfirmed messages again, nothing is lost", async () => {
    const output = unique("cut-out");
    queues.push(output);
    await broker.queue(output);
    const target = new URL(url);
    const proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5672) });
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    await proxy.open();
    const app = createApp(`[connection:AMQPConnection]\nurl=${viaProxy.toString()}\nreconnect_delay=0.1\n`);
    const connection = app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Cut");
    const source = new Numbers(app, pipeline);
    const N = 3000;
    source.total = N;
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "", routing_key: output, max_unconfirmed: 100 } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    try {
      await until(() => sink.stats.confirmed >= 500, "the stream to be under way");
      proxy.hold(); // publishes still reach the broker; its confirms do not come back
      await until(() => sink.unconfirmed === 100, "a full window of unconfirmed messages");
      proxy.cut();
      await until(() => sink.stats.confirmed >= N && sink.buffered === 0, "every event confirmed after the reconnect");
      expect(await pump.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
    const received = (await broker.drain(output)).map((m) => Number(m.content.toString()));
    const distinct = new Set(received);
    expect(distinct.size).toBe(N);
    expect(connection.stats.connects).toBe(2);
    expect(sink.stats.republished).toBeGreaterThanOrEqual(100);
    expect(received.length - N).toBeLessThanOrEqual(sink.stats.republished);
    expect(sink.stats.failed).toBe(0);
  });

  it("RabbitMQ restarted mid-stream: the pump reconnects and loses nothing (duplicates counted)", async () => {
    const input = unique("restart-in");
    const output = unique("restart-out");
    queues.push(input, output);
    await broker.queue(input);
    await broker.queue(output);
    const N = 2000;
    await broker.publish(input, Array.from({ length: N }, (_, n) => String(n)));

    const app = createApp(`[connection:AMQPConnection]\nurl=${url}\nreconnect_delay=0.2\nreconnect_delay_max=2\n`);
    const connection = app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
    const pipeline = new Pipeline(app, "Restart");
    const gate = new Gate(app, pipeline);
    gate.at = 500;
    const source = new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: input, prefetch_count: 200 } });
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "", routing_key: output, max_unconfirmed: 100 } });
    pipeline.build(source, gate, sink);
    app.pumpService.addPipeline(pipeline);
    const pump = runApp(app);
    let restarted = false;
    try {
      // The stream is under way: 500 events passed, the next waits at the gate with the rest of its batch.
      await until(() => gate.passed > 500 && sink.stats.confirmed >= 1, "the stream to be under way");
      const restart = rabbitmq("restart");
      await until(() => !connection.isOpen, "the broker to go down");
      gate.open(); // the rest of the batch reaches the sink while the broker is down
      await restart;
      restarted = true;
      await until(() => connection.isOpen, "the pump to reconnect");
      await until(async () => (await broker.count(input)) === 0 && source.inflight === 0 && sink.buffered === 0, "the input to be consumed", 3000);
      expect(await pump.stop()).toBe(0);
    } finally {
      gate.open();
      if (!restarted) await rabbitmq("up");
    }
    const received = (await broker.drain(output)).map((m) => Number(m.content.toString()));
    const distinct = new Set(received);
    const duplicates = received.length - distinct.size;
    console.log(
      `[amqp restart] ${N} messages: ${distinct.size} distinct delivered, ${N - distinct.size} lost, ${duplicates} duplicates;` +
        ` source ${JSON.stringify(source.stats)}; sink ${JSON.stringify(sink.stats)}; connection ${JSON.stringify(connection.stats)}`,
    );
    expect(N - distinct.size).toBe(0); // nothing lost
    expect([...distinct].every((n) => n >= 0 && n < N)).toBe(true);
    expect(connection.stats.disconnects).toBeGreaterThanOrEqual(1);
    // Every duplicate is explained: a message redelivered by the broker, or one published again after a lost channel.
    expect(duplicates).toBeLessThanOrEqual(source.stats.redelivered + sink.stats.republished);
  });
});

import { deliveryOf, Pipeline, Processor, Sink, type Context, type PumpApplication } from "@pump/core";
import { TcpProxy, UnitTestSink, until } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { RedisConnection, RedisListSink, RedisListSource, type RedisListContext } from "../../src/index.js";
import { createApp, TestRedis, unique } from "../helpers.js";

/** Upper-cases the event, and routes those starting with "b" to another list. */
class Route extends Processor<string, string> {
  other = "";

  process(context: Context, event: string): string {
    if (event.startsWith("b")) context.redis_list = this.other;
    return event.toUpperCase();
  }
}

/** Holds every delivery: nothing it gets settles until the pipeline stops. */
class HoldingSink extends Sink {
  override readonly confirmsDelivery = true;
  readonly held: Context[] = [];

  process(context: Context): void {
    this.held.push(context);
  }
}

/** Fails on the event `bad` (a hard error by default: the pipeline stops, the delivery fails). */
class FailOn extends Processor<string, string> {
  bad = "";

  process(_context: Context, event: string): string {
    if (event === this.bad) throw new Error(`cannot take ${event}`);
    return event;
  }
}

function connection(app: PumpApplication, url: string): RedisConnection {
  const c = new RedisConnection(app, "RedisConnection", { config: { url, reconnect_delay: 0.05, reconnect_delay_max: 0.2 } });
  app.pumpService.addConnection(c);
  return c;
}

describeWithServer("RedisListSource and RedisListSink against Redis", "REDIS_URL", (url) => {
  const redis = new TestRedis(url);
  afterAll(() => redis.close());

  it("copies a list into two others through a processor, in order, and leaves nothing behind", async () => {
    const input = unique("in");
    const [outA, outB] = [unique("a"), unique("b")];
    const values = Array.from({ length: 5000 }, (_, i) => `${i % 2 === 0 ? "a" : "b"}${i}`);
    await redis.push(input, values);
    const app = createApp();
    const c = connection(app, url);
    const pipeline = new Pipeline(app, "Copy");
    const route = new Route(app, pipeline);
    route.other = outB;
    pipeline.build(new RedisListSource(app, pipeline, c, { config: { list: input, block_timeout: 0.2 } }), route, new RedisListSink(app, pipeline, c, { config: { list: outA } }));
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await until(async () => (await redis.length(outA)) + (await redis.length(outB)) === 5000, "5000 elements written");
      await until(async () => (await redis.length(`${input}:processing`)) === 0, "the processing list to empty");
    } finally {
      await app.pumpService.finalize();
    }
    expect((await redis.read(outA)).map(String)).toEqual(values.filter((v) => v.startsWith("a")).map((v) => v.toUpperCase()));
    expect((await redis.read(outB)).map(String)).toEqual(values.filter((v) => v.startsWith("b")).map((v) => v.toUpperCase()));
    expect(await redis.length(input)).toBe(0);
    await redis.delete(outA, outB);
  });

  it("puts back what a stopped run left in the processing list, oldest first, before what waits in the list", async () => {
    const list = unique("recover");
    await redis.push(`${list}:processing`, ["p1", "p2", "p3"]);
    await redis.push(list, ["x1", "x2"]);
    const app = createApp();
    const pipeline = new Pipeline(app, "Recover");
    const sink = new UnitTestSink<string>(app, pipeline);
    pipeline.build(new RedisListSource(app, pipeline, connection(app, url), { config: { list, block_timeout: 0.2 } }), sink);
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await until(() => sink.output.length === 5, "5 events");
      await until(async () => (await redis.length(`${list}:processing`)) === 0, "the processing list to empty");
    } finally {
      await app.pumpService.finalize();
    }
    expect(sink.output.map(([, event]) => event)).toEqual(["p1", "p2", "p3", "x1", "x2"]);
    expect((sink.output[0]![0] as RedisListContext).redis_source_list).toBe(list);
    await redis.delete(list);
  });

  it("takes at most `prefetch` elements while their events are unsettled: the rest stays in Redis", async () => {
    const list = unique("prefetch");
    await redis.push(list, Array.from({ length: 500 }, (_, i) => String(i)));
    const app = createApp();
    const pipeline = new Pipeline(app, "Prefetch");
    const sink = new HoldingSink(app, pipeline);
    const source = new RedisListSource(app, pipeline, connection(app, url), { config: { list, prefetch: 120, batch_size: 50, block_timeout: 0.2 } });
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await until(() => sink.held.length === 120, "120 events held");
      // a while later: still 120 taken, 380 waiting
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sink.held.length).toBe(120);
      expect(await redis.length(`${list}:processing`)).toBe(120);
      expect(await redis.length(list)).toBe(380);
      for (const context of sink.held.splice(0, 30)) deliveryOf(context)?.done();
      await until(() => sink.held.length === 90 + 30, "30 more once 30 settled");
      expect(source.unsettled).toBe(120);
    } finally {
      await app.pumpService.finalize();
    }
    // the held ones failed on stop: back in the list, nothing lost
    expect((await redis.length(list)) + (await redis.length(`${list}:processing`))).toBe(470);
    await redis.delete(list, `${list}:processing`);
  });

  it("an event that failed goes back to the head of the list: nothing is lost", async () => {
    const list = unique("fail");
    await redis.push(list, ["a", "b", "c"]);
    const app = createApp();
    const pipeline = new Pipeline(app, "Fail");
    const fail = new FailOn(app, pipeline);
    fail.bad = "b";
    const sink = new UnitTestSink<string>(app, pipeline);
    pipeline.build(new RedisListSource(app, pipeline, connection(app, url), { config: { list, batch_size: 1, block_timeout: 0.2 } }), fail, sink);
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await until(() => pipeline.isError(), "the hard error");
      await until(async () => (await redis.read(list)).map(String).join() === "b,c", "b back at the head");
    } finally {
      await app.pumpService.finalize();
    }
    expect(sink.output.map(([, event]) => event)).toEqual(["a"]);
    expect(await redis.length(`${list}:processing`)).toBe(0);
    await redis.delete(list);
  });

  it("with decode=bytes, elements that are not UTF-8 come as the same bytes and are acknowledged", async () => {
    const list = unique("bytes");
    const elements = [Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from([0xc3, 0x28]), Buffer.from("plain")];
    await redis.push(list, elements);
    const app = createApp();
    const pipeline = new Pipeline(app, "Bytes");
    const sink = new UnitTestSink<Buffer>(app, pipeline);
    pipeline.build(new RedisListSource<Buffer>(app, pipeline, connection(app, url), { config: { list, decode: "bytes", block_timeout: 0.2 } }), sink);
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await until(() => sink.output.length === 3, "3 events");
      await until(async () => (await redis.length(`${list}:processing`)) === 0, "the processing list to empty");
    } finally {
      await app.pumpService.finalize();
    }
    expect(sink.output.map(([, event]) => event)).toEqual(elements);
  });

  it("writes objects as JSON; a pump whose Redis is down at start waits for it and then loses nothing", async () => {
    const [input, output] = [unique("late-in"), unique("late-out")];
    await redis.push(input, Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })));
    const { proxy, url: proxied } = await TcpProxy.to(url, 6379);
    const app = createApp();
    const c = connection(app, proxied);
    const pipeline = new Pipeline(app, "Late");
    const parse = new (class extends Processor<string, unknown> {
      process(_context: Context, event: string): unknown {
        return { ...(JSON.parse(event) as object), seen: true };
      }
    })(app, pipeline);
    pipeline.build(new RedisListSource(app, pipeline, c, { config: { list: input, block_timeout: 0.2, retry_delay: 0.05 } }), parse, new RedisListSink(app, pipeline, c, { config: { list: output } }));
    app.pumpService.addPipeline(pipeline);
    await app.pumpService.initialize();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await redis.length(input)).toBe(100);
      await proxy.open();
      await until(async () => (await redis.length(output)) === 100, "100 elements written once Redis is reachable");
    } finally {
      await app.pumpService.finalize();
      await proxy.close();
    }
    expect((await redis.read(output)).map((b) => JSON.parse(b.toString()) as unknown)).toEqual(Array.from({ length: 100 }, (_, i) => ({ i, seen: true })));
    await redis.delete(output);
  });
});

import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { Pipeline, Trigger, type PumpApplication, type Sink } from "@pump/core";
import { HTTPClientSource, HTTPClientWebSocketSink, WebSocketError, WebSocketSource, type WebSocketContext } from "../src/index.js";
import { UnitTestSink, SlowSink, TrackedSource, createApp, freePort, startServer, until, type TestServer } from "./helpers.js";

const pipelines: Pipeline[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const pipeline of pipelines.splice(0)) await pipeline.stop();
  for (const server of servers.splice(0)) await server.close();
});

/** The tutorial's server consumer: WebSocketSource (own listener) → sink. */
async function serverPipeline<T extends Buffer | string, S extends Sink<T> = UnitTestSink<T>>(config: Record<string, string | number> = {}, makeSink?: (app: PumpApplication, p: Pipeline) => S) {
  const app = createApp();
  const pipeline = new Pipeline(app, "ServerPipeline");
  const source = new WebSocketSource(app, pipeline, { config: { listen: "127.0.0.1:0", ...config } });
  const sink = (makeSink?.(app, pipeline) ?? new UnitTestSink<T>(app, pipeline)) as S;
  // The messages of these tests are all text, or all binary: the sinks take that type.
  pipeline.build(source, sink as Sink);
  pipelines.push(pipeline);
  await pipeline.start();
  const { port } = await source.listening();
  return { app, pipeline, source, sink, port };
}

/** A client: TrackedSource(events) → HTTPClientWebSocketSink. */
async function clientPipeline(url: string, events: unknown[], config: Record<string, string | number> = {}) {
  const app = createApp();
  const pipeline = new Pipeline(app, "ClientPipeline");
  const source = new TrackedSource(app, pipeline);
  source.events = events;
  const sink = new HTTPClientWebSocketSink(app, pipeline, { config: { url, reconnect_delay: 0.02, reconnect_delay_max: 0.1, ...config } });
  pipeline.build(source, sink);
  pipelines.push(pipeline);
  await pipeline.start();
  return { app, pipeline, source, sink };
}

describe("WebSocket: the tutorial's server consumer and client producer", () => {
  it("pumps HTTPClientSource responses over HTTPClientWebSocketSink into a WebSocketSource at /bspump/ws", async () => {
    const coindesk = await startServer((_r, res, i) => void res.end(JSON.stringify({ chartName: "Bitcoin", tick: i })));
    servers.push(coindesk);
    const server = await serverPipeline<Buffer>({ path: "/bspump/ws" });

    const app = createApp();
    const client = new Pipeline(app, "SamplePipeline");
    const trigger = new Trigger(app);
    const sink = new HTTPClientWebSocketSink(app, client, { config: { url: `http://127.0.0.1:${server.port}/bspump/ws` } });
    client.build(new HTTPClientSource(app, client, { config: { url: `${coindesk.url}/v1/bpi/currentprice.json` } }).on(trigger), sink);
    pipelines.push(client);
    await client.start();
    await until(() => sink.connected, "the connection");
    for (let i = 0; i < 3; i++) {
      trigger.fire();
      await until(() => server.sink.events.length === i + 1, `message ${i}`);
    }
    expect(server.sink.events.map((b) => JSON.parse(b.toString()) as unknown)).toEqual([0, 1, 2].map((tick) => ({ chartName: "Bitcoin", tick })));
    const context = server.sink.contexts[0] as WebSocketContext;
    expect(context.type).toBe("binary");
    expect(context.request.url).toBe("/bspump/ws");
    expect(server.source.stats).toMatchObject({ connections: 1, open: 1, messages: 3 });
  });

  it("sends strings as text, bytes as binary and other values as JSON text; confirms each once written", async () => {
    const server = await serverPipeline<Buffer | string>();
    const client = await clientPipeline(`ws://127.0.0.1:${server.port}/bspump/ws`, ["hello", Buffer.from([7, 8]), { a: [1, 2] }]);
    await until(() => server.sink.events.length === 3, "three messages");
    expect(server.sink.events[0]).toBe("hello");
    expect([...(server.sink.events[1] as Buffer)]).toEqual([7, 8]);
    expect(server.sink.events[2]).toBe('{"a":[1,2]}');
    expect(server.sink.contexts.map((c) => c.type)).toEqual(["text", "binary", "text"]);
    await until(() => client.source.settled.length === 3, "three confirmations");
    expect(client.source.settled.map((s) => s.error)).toEqual([undefined, undefined, undefined]);
  });

  it("throttles while the server is down, connects when it comes up, and sends what waited: nothing lost", async () => {
    const port = await freePort();
    const events = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const client = await clientPipeline(`http://127.0.0.1:${port}/bspump/ws`, events, { output_queue_max_size: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.pipeline.isReady()).toBe(false);
    expect(client.sink.connected).toBe(false);
    // The source stopped at the queue's limit: memory is bounded while the server is down.
    expect(client.sink.buffered).toBeLessThanOrEqual(10);
    const server = await serverPipeline<string>({ listen: `127.0.0.1:${port}` });
    await until(() => server.sink.events.length === events.length, "every message");
    expect(server.sink.events).toEqual(events);
    expect(client.pipeline.isReady()).toBe(true);
  });

  it("reconnects after the server restarts and goes on sending", async () => {
    const port = await freePort();
    const first = await serverPipeline<string>({ listen: `127.0.0.1:${port}` });
    const app = createApp();
    const pipeline = new Pipeline(app, "Client");
    const trigger = new Trigger(app);
    let n = 0;
    class Counter extends HTTPClientSource {
      override async cycle(): Promise<void> {
        await this.processBatch([Buffer.from(`n${n++}`)]);
      }
    }
    const sink = new HTTPClientWebSocketSink(app, pipeline, { config: { url: `ws://127.0.0.1:${port}/bspump/ws`, reconnect_delay: 0.02 } });
    pipeline.build(new Counter(app, pipeline).on(trigger), sink);
    pipelines.push(pipeline);
    await pipeline.start();
    await until(() => sink.connected, "connected");
    trigger.fire();
    await until(() => first.sink.events.length === 1, "the first message");
    await first.pipeline.stop();
    pipelines.splice(pipelines.indexOf(first.pipeline), 1);
    await until(() => !sink.connected && !pipeline.isReady(), "the sink to notice and throttle");
    const second = await serverPipeline<Buffer>({ listen: `127.0.0.1:${port}` });
    await until(() => sink.connected && pipeline.isReady(), "the reconnection");
    trigger.fire();
    await until(() => second.sink.events.length === 1, "a message on the new connection");
    expect(second.sink.events.map(String)).toEqual(["n1"]);
    expect(sink.stats.connections).toBe(2);
  });

  it("pauses reading a socket while the pipeline is not ready: the client's sends back up, memory stays flat, order is kept", async () => {
    const server = await serverPipeline<string, SlowSink<string>>({ queue_max_size: 20 }, (app, p) => Object.assign(new SlowSink<string>(app, p), { limit: 20 }));
    const slow = server.sink;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/bspump/ws`);
    await once(ws, "open");
    const payload = "x".repeat(1000);
    const total = 5000;
    for (let i = 0; i < total; i++) ws.send(`${i} ${payload}`);
    let peakQueued = 0;
    await until(() => {
      peakQueued = Math.max(peakQueued, server.source.queued);
      return server.source.stats.paused > 0 && slow.held.length >= 20;
    }, "the source to pause");
    // While the sink holds everything, nothing more is taken off the socket.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slow.held.length).toBeLessThan(20 + 21);
    expect(slow.held.length + server.source.queued).toBeLessThan(total);
    const releaser = setInterval(() => {
      peakQueued = Math.max(peakQueued, server.source.queued);
      slow.release();
    }, 1);
    try {
      await until(() => slow.released.length === total, "every message");
    } finally {
      clearInterval(releaser);
    }
    expect(slow.released.map((m) => Number(m.split(" ")[0]))).toEqual(Array.from({ length: total }, (_, i) => i));
    // Bounded by the queue limit plus what the socket had already read when it was paused, never the 5 MB sent.
    expect(peakQueued).toBeLessThan(500);
    expect(slow.peak).toBeLessThan(20 + 500);
    ws.close();
  });

  it("mounts on a Node http server at a path, leaving other upgrades alone; refuses upgrades while not running", async () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new WebSocketSource(app, pipeline);
    const sink = new UnitTestSink<Buffer | string>(app, pipeline);
    pipeline.build(source, sink);
    const http = createServer((_req, res) => res.end("plain"));
    source.mount(http, "/events");
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const early = new WebSocket(`${base}/events`);
      const [, response] = (await once(early, "unexpected-response")) as [unknown, { statusCode: number }];
      expect(response.statusCode).toBe(503);
      expect(source.stats.refused).toBe(1);

      await pipeline.start();
      const ws = new WebSocket(`${base}/events`);
      await once(ws, "open");
      ws.send("via the app's server");
      await until(() => sink.events.length === 1, "the message");
      expect(sink.events).toEqual(["via the app's server"]);
      expect(await (await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`)).text()).toBe("plain");

      // On stop every socket is closed with 1001 (going away).
      const closed = once(ws, "close");
      await pipeline.stop();
      const [code] = (await closed) as [number];
      expect(code).toBe(1001);
    } finally {
      source.unmount();
      http.closeAllConnections();
      http.close();
    }
  });

  it("gives up what it could not write when it stops: those deliveries fail, the written ones are confirmed", async () => {
    // A server that accepts the connection and then stops reading: the client's writes back up.
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    http.on("upgrade", (_request, socket) => socket.on("data", () => socket.pause()));
    wss.on("connection", () => {});
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const chunk = Buffer.alloc(256 * 1024, 1);
    const events = Array.from({ length: 80 }, () => chunk);
    try {
      const client = await clientPipeline(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, events, { close_timeout: 0.05, output_queue_max_size: 1000, output_queue_max_bytes: 64 * 1024 * 1024 });
      await until(() => client.source.settled.length + client.sink.buffered === events.length, "every event taken by the sink");
      await client.pipeline.stop();
      pipelines.length = 0;
      expect(client.source.settled.length).toBe(events.length);
      const failed = client.source.settled.filter((s) => s.error !== undefined);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((s) => s.error instanceof WebSocketError)).toBe(true);
      expect(client.sink.stats.failed).toBe(failed.length);
      expect(client.sink.stats.sent).toBe(events.length - failed.length);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
      http.close();
    }
  });
});

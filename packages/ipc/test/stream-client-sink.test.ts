import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Pipeline } from "@pump/core";
import { NotSentError, StreamClientSink, StreamSink } from "../src/index.js";
import { TestServer, TrackedSource, createApp, freePort, turns, until } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
});

function pump(events: (string | Buffer)[], config: Record<string, string | number | boolean>) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  const source = new TrackedSource<string | Buffer>(app, pipeline);
  source.events = events;
  const sink = new StreamClientSink(app, pipeline, { config: { reconnect_delay: 0.01, reconnect_delay_max: 0.05, ...config } });
  pipeline.build(source, sink);
  return { app, pipeline, source, sink };
}

async function testServer(port = 0): Promise<[TestServer, number]> {
  const server = new TestServer();
  const bound = await server.listen(port);
  cleanups.push(() => server.close());
  return [server, bound];
}

const lines = (count: number, prefix = "event"): string[] => Array.from({ length: count }, (_, i) => `${prefix} ${i}\n`);

describe("StreamClientSink", () => {
  it("sends the events in order and confirms each once it is written", async () => {
    const [server, port] = await testServer();
    const events = lines(1000);
    const { pipeline, source, sink } = pump(events, { address: `127.0.0.1 ${port}` });
    await pipeline.start();
    await until(() => source.settled.length === 1000, "1000 settlements");
    expect(source.failures()).toEqual([]);
    await until(() => server.text.length === events.join("").length, "all bytes at the server");
    expect(server.text).toBe(events.join(""));
    expect(sink.connections).toBe(1);
    await pipeline.stop();
    expect(StreamSink).toBe(StreamClientSink);
  });

  it("while the connection is refused the pipeline is throttled and nothing is lost; once the server is up everything arrives", async () => {
    const port = await freePort();
    const events = lines(500);
    const { pipeline, source, sink } = pump(events, { address: `127.0.0.1:${port}` });
    await pipeline.start();
    await turns(30); // several refused attempts
    expect(sink.connected).toBe(false);
    expect(pipeline.getThrottles().has(sink)).toBe(true);
    expect(source.handed).toBe(0); // the source waits: nothing was taken that could be lost
    expect(source.settled).toEqual([]);
    const [server] = await testServer(port);
    await until(() => source.settled.length === 500, "500 settlements");
    expect(source.failures()).toEqual([]);
    await until(() => server.text === events.join(""), "every event at the server, in order");
    expect(pipeline.getThrottles().has(sink)).toBe(false);
    await pipeline.stop();
  });

  it("reconnects when the server closes the connection, throttling the pipeline meanwhile", async () => {
    const [server, port] = await testServer();
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new TrackedSource<string>(app, pipeline);
    source.events = lines(10, "first");
    const sink = new StreamClientSink(app, pipeline, { config: { address: `127.0.0.1 ${port}`, reconnect_delay: 0.01 } });
    pipeline.build(source, sink);
    await pipeline.start();
    await until(() => server.text === lines(10, "first").join(""), "the first events");
    let throttledWhileAway = false;
    pipeline.pubsub.subscribe("bspump.pipeline.not_ready!", () => {
      if (!sink.connected && pipeline.getThrottles().has(sink)) throttledWhileAway = true;
    });
    for (const socket of server.sockets) socket.end();
    await until(() => sink.connections === 2 && sink.connected, "the reconnection");
    expect(throttledWhileAway).toBe(true);
    // A second run of the source through the new connection.
    source.events = lines(10, "second");
    source.settled.length = 0;
    server.received.length = 0;
    source.restart();
    await until(() => source.settled.length === 10, "10 settlements");
    await until(() => server.text === lines(10, "second").join(""), "the second events");
    await pipeline.stop();
  });

  it("throttles the pipeline while the socket's buffer is full (the server does not read), and sends it all when it reads again", async () => {
    const [server, port] = await testServer();
    server.pause();
    const big = "z".repeat(64 * 1024);
    const events = Array.from({ length: 300 }, (_, i) => `${i} ${big}\n`); // ~20 MB
    const { pipeline, source, sink } = pump(events, { address: `127.0.0.1 ${port}` });
    await pipeline.start();
    await until(() => pipeline.getThrottles().has(sink) && sink.connected, "the sink to throttle");
    let stable = 0;
    let last = -1;
    while (stable < 30) {
      stable = source.handed === last ? stable + 1 : 0;
      last = source.handed;
      await turns(1);
    }
    expect(source.handed).toBeLessThan(300); // held back
    expect(sink.pending).toBeLessThanOrEqual(100 + 10); // outbound_queue_max_size plus the batch in flight
    server.resume();
    await until(() => source.settled.length === 300, "300 settlements");
    await until(() => server.text.length === events.join("").length, "every byte");
    expect(server.text).toBe(events.join(""));
    await pipeline.stop();
  });

  it("sends the events a broken connection had not written again on the next one", async () => {
    const [server, port] = await testServer();
    server.pause();
    const big = "z".repeat(64 * 1024);
    const events = Array.from({ length: 100 }, (_, i) => `${i} ${big}\n`);
    const { pipeline, source, sink } = pump(events, { address: `127.0.0.1 ${port}` });
    source.stamp = () => sink.connections;
    await pipeline.start();
    await until(() => pipeline.getThrottles().has(sink) && sink.pending > 0, "a backed-up connection");
    expect(source.settled.length).toBeLessThan(source.handed); // some were taken and not yet written
    const takenBeforeBreak = source.handed;
    server.resume();
    for (const socket of server.sockets) socket.destroy(); // the connection breaks
    await until(() => source.settled.length === 100, "100 settlements");
    expect(source.failures()).toEqual([]);
    expect(sink.connections).toBe(2);
    expect(server.connections).toHaveLength(2);
    const secondText = (): string => Buffer.concat(server.connections[1]!).toString();
    await until(() => secondText().endsWith(events[99]!), "the last event");
    const second = new Set(
      secondText()
        .split("\n")
        .filter((line) => line.endsWith(big))
        .map((line) => Number(line.split(" ")[0])),
    );
    // Every event confirmed while on the second connection went through it, the ones the first
    // connection held unwritten included. (What the first one had handed to the kernel when the server
    // dropped it is lost: TCP tells the sender nothing about what the peer read.)
    const onFirst = source.settled.filter((s) => s.at === 1).map((s) => s.token);
    const onSecond = source.settled.filter((s) => s.at === 2).map((s) => s.token);
    expect(onFirst).toEqual(Array.from({ length: onFirst.length }, (_, i) => i)); // confirmed in order
    expect(Math.min(...onSecond)).toBe(onFirst.length);
    expect(onFirst.length).toBeLessThan(takenBeforeBreak); // so the first events of the second connection were resent
    for (const token of onSecond) expect(second.has(token), `event ${token}`).toBe(true);
    await pipeline.stop();
  });

  it("fails the deliveries of events still held when it stops disconnected", async () => {
    const [server, port] = await testServer();
    server.pause();
    const big = "q".repeat(256 * 1024);
    const { pipeline, source, sink } = pump(
      Array.from({ length: 80 }, () => big),
      { address: `127.0.0.1 ${port}`, stop_timeout: 0.05 },
    );
    await pipeline.start();
    await until(() => pipeline.getThrottles().has(sink) && sink.pending > 0, "held events");
    await server.close(); // the server goes away with the client's data unread
    await pipeline.stop();
    const failed = source.failures();
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((e) => e instanceof NotSentError)).toBe(true);
    expect(source.settled.length).toBe(source.handed); // every event taken was settled, one way or the other
  });

  it("an event that is neither bytes nor a string is a pipeline error", async () => {
    const [, port] = await testServer();
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const source = new TrackedSource<string>(app, pipeline);
    source.events = [{ not: "bytes" } as unknown as string];
    pipeline.build(source, new StreamClientSink(app, pipeline, { config: { address: `127.0.0.1 ${port}` } }));
    await pipeline.start();
    await until(() => pipeline.isError(), "the error");
    expect((pipeline.error!.error as Error).message).toBe("'StreamClientSink': an event must be bytes (Buffer, Uint8Array) or a string, got object");
    await pipeline.stop();
  });

  it("connects to a UNIX socket", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pump-ipc-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "sink.sock");
    let received = "";
    const sockets: Socket[] = [];
    const unix = createServer((socket) => {
      sockets.push(socket);
      socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    });
    await new Promise<void>((resolve) => unix.listen(path, resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => unix.close(() => resolve()));
    });
    const { pipeline, source } = pump(lines(20), { address: path });
    await pipeline.start();
    await until(() => source.settled.length === 20, "20 settlements");
    await until(() => received === lines(20).join(""), "the data");
    await pipeline.stop();
  });
});

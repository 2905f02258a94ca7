import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { Pipeline } from "@pump/core";
import { DatagramSink, DatagramSource, UDPSource, type DatagramContext } from "../src/index.js";
import { CollectSink, TrackedSource, createApp, turns, until } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
});

async function receiver(config: Record<string, string | number | boolean> = {}) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  const source = new DatagramSource(app, pipeline, { config: { address: "127.0.0.1 0", ...config } });
  const sink = new CollectSink<Buffer>(app, pipeline);
  pipeline.build(source, sink);
  await pipeline.start();
  cleanups.push(() => pipeline.stop());
  const [bound] = await source.listening();
  return { pipeline, source, sink, port: bound!.port };
}

async function sender(): Promise<Socket> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

function send(socket: Socket, port: number, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())));
}

describe("DatagramSource", () => {
  it("makes each datagram of several senders a Buffer event with the sender in the context", async () => {
    const { sink, port, source } = await receiver();
    const senders = await Promise.all(Array.from({ length: 4 }, () => sender()));
    const perSender = 200;
    // Paced so that the kernel's receive buffer never overflows: wait for each round to arrive.
    for (let i = 0; i < perSender; i += 20) {
      await Promise.all(senders.map(async (socket, s) => {
        for (let k = i; k < i + 20; k++) await send(socket, port, `s${s} ${k}`);
      }));
      await until(() => sink.events.length === (i + 20) * senders.length, `round ${i}`);
    }
    expect(source.dropped).toBe(0);
    for (const [s, socket] of senders.entries()) {
      const mine = sink.events.map((e, i) => [e.toString(), sink.contexts[i] as DatagramContext] as const).filter(([, c]) => c.datagram[1] === socket.address().port);
      expect(mine.map(([e]) => e)).toEqual(Array.from({ length: perSender }, (_, k) => `s${s} ${k}`));
      expect(mine.every(([, c]) => c.datagram[0] === "127.0.0.1")).toBe(true);
    }
    expect(sink.events.every((e) => Buffer.isBuffer(e))).toBe(true);
    expect(UDPSource).toBe(DatagramSource);
  });

  it("holds datagrams while the pipeline is not ready, drops and counts those beyond queue_max_size, and delivers the held ones after", async () => {
    const { sink, port, source, pipeline } = await receiver({ queue_max_size: 50 });
    const socket = await sender();
    pipeline.throttle("test", true);
    for (let i = 0; i < 80; i++) await send(socket, port, `d${i}`);
    await until(() => source.received === 80, "80 datagrams received");
    expect(source.queued).toBe(50);
    expect(source.dropped).toBe(30);
    await turns(5);
    expect(sink.events).toEqual([]);
    pipeline.throttle("test", false);
    await until(() => sink.events.length === 50, "the held datagrams");
    expect(sink.events.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `d${i}`));
  });

  it("cuts a datagram longer than max_packet_size", async () => {
    const { sink, port } = await receiver({ max_packet_size: 8 });
    await send(await sender(), port, "0123456789abcdef");
    await until(() => sink.events.length === 1, "the datagram");
    expect(sink.events[0]!.toString()).toBe("01234567");
  });

  it("refuses a UNIX socket address", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    expect(() => new DatagramSource(app, pipeline, { config: { address: "/tmp/x.sock" } })).toThrow(/key 'address': UNIX datagram sockets are not supported/);
  });
});

describe("DatagramSink", () => {
  it("sends each event as a datagram and confirms it once sent", async () => {
    const { sink: received, port } = await receiver();
    const app = createApp();
    const pipeline = new Pipeline(app, "Out");
    const source = new TrackedSource<string>(app, pipeline);
    source.events = Array.from({ length: 30 }, (_, i) => `packet ${i}`);
    pipeline.build(source, new DatagramSink(app, pipeline, { config: { address: `127.0.0.1 ${port}` } }));
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    await until(() => source.settled.length === 30, "30 settlements");
    expect(source.failures()).toEqual([]);
    await until(() => received.events.length === 30, "30 datagrams");
    expect(received.events.map(String)).toEqual(source.events);
  });
});

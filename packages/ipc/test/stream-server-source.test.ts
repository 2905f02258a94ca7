import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Pipeline, Sink, type Context } from "@pump/core";
import { StreamServerSource, TCPSource, TCPStreamSource, parseAddress, type StreamContext } from "../src/index.js";
import { records } from "./setup.js";
import { CollectSink, SoftPipeline, createApp, turns, until } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
});

async function server(config: Record<string, string | number | boolean> = {}, options: { soft?: boolean } = {}) {
  const app = createApp();
  const pipeline = options.soft === true ? new SoftPipeline(app, "P") : new Pipeline(app, "P");
  const source = new StreamServerSource(app, pipeline, { config: { address: "127.0.0.1 0", ...config } });
  const sink = new CollectSink<string | Buffer>(app, pipeline);
  pipeline.build(source, sink);
  await pipeline.start();
  cleanups.push(() => pipeline.stop());
  const [bound] = await source.listening();
  return { app, pipeline, source, sink, port: (bound as AddressInfo).port, bound: bound! };
}

async function client(port: number | string): Promise<Socket> {
  const socket = typeof port === "number" ? connect({ host: "127.0.0.1", port }) : connect({ path: port });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  cleanups.push(async () => {
    socket.destroy();
  });
  return socket;
}

function write(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

describe("StreamServerSource", () => {
  it("makes each line a string event (the \\n dropped, a \\r kept), across writes, the last line at close", async () => {
    const { sink, port } = await server();
    const socket = await client(port);
    await write(socket, "first line\nsec");
    await write(socket, "ond line\r\n\nthi");
    await until(() => sink.events.length === 3, "3 lines");
    socket.end("rd without newline");
    await until(() => sink.events.length === 4, "the last line");
    expect(sink.events).toEqual(["first line", "second line\r", "", "third without newline"]);
  });

  it("gives each event BSPump's stream context: type, direction, peer, own address and the stream", async () => {
    const { sink, port } = await server();
    const socket = await client(port);
    await write(socket, "hello\n");
    await until(() => sink.events.length === 1, "the line");
    const context = sink.contexts[0] as StreamContext;
    expect(context).toMatchObject({ stream_type: "AF_INET", stream_dir: "in", stream_peer: `127.0.0.1 ${socket.localPort}`, stream_me: `127.0.0.1 ${port}` });
    expect(context.stream.peer).toBe(context.stream_peer);
  });

  it("serves many clients at once, each client's lines in order", async () => {
    const { sink, port, source } = await server();
    const clients = await Promise.all(Array.from({ length: 12 }, () => client(port)));
    await until(() => source.clients === 12, "12 connections");
    const perClient = 2000;
    await Promise.all(
      clients.map(async (socket, c) => {
        for (let i = 0; i < perClient; i += 100) {
          let chunk = "";
          for (let k = i; k < i + 100; k++) chunk += `c${c} ${k}\n`;
          await write(socket, chunk);
        }
      }),
    );
    await until(() => sink.events.length === 12 * perClient, "every line");
    const byPeer = new Map<string, string[]>();
    sink.events.forEach((event, i) => {
      const peer = (sink.contexts[i] as StreamContext).stream_peer;
      byPeer.set(peer, [...(byPeer.get(peer) ?? []), event as string]);
    });
    expect(byPeer.size).toBe(12);
    for (const lines of byPeer.values()) {
      const c = lines[0]!.split(" ")[0];
      expect(lines).toEqual(Array.from({ length: perClient }, (_, k) => `${c} ${k}`));
    }
  });

  it("answers a client through context.stream (an echo)", async () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "Echo");
    class EchoSink extends Sink<string> {
      process(context: Context, line: string): void {
        (context as StreamContext).stream.send(`echo: ${line}\n`);
      }
    }
    const source = new TCPStreamSource<string>(app, pipeline, { config: { address: "127.0.0.1:0" } });
    pipeline.build(source, new EchoSink(app, pipeline));
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    const [bound] = await source.listening();
    const socket = await client((bound as AddressInfo).port);
    let reply = "";
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString()));
    await write(socket, "ping\npong\n");
    await until(() => reply === "echo: ping\necho: pong\n", "the echo");
    expect(TCPSource).toBe(StreamServerSource);
  });

  it("with protocol=chunk and decode=bytes gives the raw chunks as Buffers", async () => {
    const { sink, port } = await server({ protocol: "chunk", decode: "bytes" });
    const socket = await client(port);
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await write(socket, data);
    socket.end();
    await until(() => sink.events.reduce((n, e) => n + e.length, 0) === data.length, "all bytes");
    expect(sink.events.every((e) => Buffer.isBuffer(e))).toBe(true);
    expect(Buffer.concat(sink.events as Buffer[]).equals(data)).toBe(true);
  });

  it("writes bytes that are not UTF-8 as \\xNN, as Python's backslashreplace", async () => {
    const { sink, port } = await server();
    const socket = await client(port);
    await write(socket, Buffer.concat([Buffer.from("a"), Buffer.from([0xff, 0xc3]), Buffer.from("é\n")]));
    await until(() => sink.events.length === 1, "the line");
    expect(sink.events).toEqual(["a\\xff\\xc3é"]);
  });

  it("stops reading a client while the pipeline is not ready, so TCP holds the client back; nothing is lost", async () => {
    const { sink, port, pipeline } = await server({ protocol: "line" });
    sink.limit = 100; // the sink throttles the pipeline once it holds 100 lines
    const socket = await client(port);
    const line = `${"x".repeat(99)}\n`;
    const total = 200_000; // 20 MB, far more than the socket buffers on both sides hold
    let written = 0;
    let flushed = false;
    const pump = (async () => {
      const chunk = line.repeat(1000);
      for (let i = 0; i < total; i += 1000) {
        if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
        written += 1000;
      }
      await new Promise<void>((resolve) => socket.end(resolve));
      flushed = true;
    })();
    await until(() => pipeline.getThrottles().has(sink), "the sink to throttle");
    // The server side stops reading: its byte count settles while the client still has data to send.
    const serverSocket = (sink.contexts[0] as StreamContext).stream.socket;
    let last = -1;
    let stable = 0;
    while (stable < 50) {
      const read = serverSocket.bytesRead;
      stable = read === last ? stable + 1 : 0;
      last = read;
      await turns(1);
    }
    expect(flushed).toBe(false);
    expect(written).toBeLessThan(total);
    expect(serverSocket.bytesRead).toBeLessThan(total * line.length);
    expect(sink.events.length).toBeLessThan(total);
    expect(socket.writableLength).toBeGreaterThan(0); // the client's own buffer is backed up
    sink.release();
    await pump;
    await until(() => sink.events.length === total, "every line");
    expect(sink.events.every((e) => e === line.slice(0, -1))).toBe(true);
  });

  it("drops a line longer than max_line_size, reports it, and goes on with the connection", async () => {
    const { sink, port, pipeline } = await server({ max_line_size: 10 }, { soft: true });
    const socket = await client(port);
    await write(socket, `short\n${"y".repeat(50)}`);
    await write(socket, `${"y".repeat(50)}\nafter\n`);
    await until(() => sink.events.length === 2, "2 lines");
    expect(sink.events).toEqual(["short", "after"]);
    expect(pipeline.metricsSnapshot().warning).toBe(1);
    const warning = records.find((r) => r.message === "Event dropped by a soft error");
    expect((warning!.fields.error as Error).message).toBe(`'127.0.0.1 ${socket.localPort}': line longer than max_line_size (10 bytes)`);
  });

  it("listens on a UNIX socket, replacing a stale socket file but refusing any other file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pump-ipc-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "pump.sock");
    const first = await server({ address: path });
    const socket = await client(path);
    await write(socket, "over unix\n");
    await until(() => first.sink.events.length === 1, "the line");
    expect(first.sink.contexts[0]).toMatchObject({ stream_type: "AF_UNIX" });
    socket.destroy();

    await writeFile(join(dir, "not-a-socket"), "data");
    const app = createApp();
    const pipeline = new Pipeline(app, "P2");
    const source = new StreamServerSource(app, pipeline, { config: { address: join(dir, "not-a-socket") } });
    pipeline.build(source, new CollectSink(app, pipeline));
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    await expect(source.listening()).rejects.toMatchObject({ code: "PUMP_IPC_LISTEN" });
    await until(() => pipeline.isError(), "the pipeline error");
  });

  it("a port already taken is a pipeline error naming the address", async () => {
    const { port } = await server();
    const app = createApp();
    const pipeline = new Pipeline(app, "P2");
    const source = new StreamServerSource(app, pipeline, { config: { address: `127.0.0.1 ${port}` } });
    pipeline.build(source, new CollectSink(app, pipeline));
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    await until(() => pipeline.isError(), "the pipeline error");
    expect((pipeline.error!.error as Error).message).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1 ${port}: .*EADDRINUSE`));
  });

  it("stop closes the clients and the server; a restarted pipeline listens again", async () => {
    const { pipeline, port, source, sink } = await server();
    const socket = await client(port);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await write(socket, "one\n");
    await until(() => sink.events.length === 1, "one line");
    await pipeline.stop();
    await closed;
    expect(source.clients).toBe(0);
    await expect(client(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await pipeline.start();
    const [bound] = await source.listening();
    const again = await client((bound as AddressInfo).port);
    await write(again, "two\n");
    await until(() => sink.events.length === 2, "the second line");
  });

  it("takes BSPump's older host/port keys, and binds 127.0.0.1 for a port alone", async () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const legacy = new StreamServerSource(app, pipeline, { config: { port: 0 } });
    expect(legacy.addresses).toEqual([{ kind: "inet", host: "127.0.0.1", port: 0, text: "127.0.0.1 0" }]);
    expect(parseAddress("8080")).toMatchObject({ kind: "inet", host: "127.0.0.1", port: 8080 });
    expect(parseAddress("0.0.0.0 8080")).toMatchObject({ host: "0.0.0.0", port: 8080 });
    expect(parseAddress("0.0.0.0:8080")).toMatchObject({ host: "0.0.0.0", port: 8080 });
    expect(parseAddress(":::8080")).toMatchObject({ host: "::", port: 8080 });
    expect(parseAddress("[::1]:8080")).toMatchObject({ host: "::1", port: 8080 });
    expect(parseAddress("*:8080")).toMatchObject({ host: undefined, port: 8080 });
    expect(parseAddress("./pump.sock")).toEqual({ kind: "unix", path: "./pump.sock", text: "./pump.sock" });
    expect(() => new StreamServerSource(app, pipeline, { id: "Bad", config: { address: "1.2.3.4 99999" } })).toThrow(/\[pipeline:P:Bad\] key 'address': port 99999 is out of range/);
    expect(() => new StreamServerSource(app, pipeline, { id: "Bad2", config: { protocol: "morse" } })).toThrow(/key 'protocol': unknown protocol 'morse'/);
  });
});

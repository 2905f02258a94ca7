import { connect, createServer, type Server, type Socket } from "node:net";

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A TCP proxy on loopback in front of a real server, to play network faults a test cannot ask the
 * server for: the port refuses connections until `open()` ("down at start"), `cut()` drops the open
 * connections ("a dropped connection"), `close()` drops them and refuses new ones until `open()`
 * again ("an outage"), `hold()` stops passing what the server sends ("a server that stopped
 * answering").
 */
export class TcpProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Each upstream socket and the client it answers. */
  readonly #pairs = new Map<Socket, Socket>();
  #holding = false;

  constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** A proxy (not open yet) in front of `url`'s host and port, and `url` with its port pointed at the proxy. */
  static async to(url: string, defaultPort: number): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || defaultPort) });
    const via = new URL(url);
    via.port = String(proxy.port);
    return { proxy, url: via.toString() };
  }

  get isOpen(): boolean {
    return this.#server !== undefined;
  }

  async open(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      this.#sockets.add(client).add(upstream);
      this.#pairs.set(upstream, client);
      client.pipe(upstream);
      if (!this.#holding) upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
        this.#pairs.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.#server = server;
  }

  /** Stops passing what the server sends (the client's requests still go through), until the connections are cut. */
  hold(): void {
    this.#holding = true;
    for (const [upstream, client] of this.#pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  /** Drops the connections open now; new ones are accepted (and passed both ways) as before. */
  cut(): void {
    this.#holding = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** An outage as the conformance kit plays it: `close()` now, and what `open()`s again. */
  async outage(): Promise<() => Promise<void>> {
    await this.close();
    return () => this.open();
  }

  /** Drops the connections and refuses new ones until `open()`. */
  async close(): Promise<void> {
    this.cut();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

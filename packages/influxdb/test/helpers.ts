import { randomUUID } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import { ConfigFile, DELIVERY, Delivery, PumpApplication, Source, type Context } from "@pump/core";

/** An application that reads no command line, with a configuration given as text. */
export function createApp(conf = ""): PumpApplication {
  return new PumpApplication({ args: [], config: ConfigFile.parse(conf) });
}

/** A measurement name of its own for this run. */
export function unique(prefix: string): string {
  return `pump_influx_${prefix}_${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` every `intervalMs`, at most `tries` times (a bound so a broken test cannot hang, never an expectation about speed). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1500, intervalMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/** Runs the application until `stop()`; `started` resolves once its pipelines run. */
export function runApp(app: PumpApplication): { started: Promise<void>; stop: () => Promise<number> } {
  const running = app.run();
  return {
    started: until(() => app.pumpService.running, "the pump to start"),
    stop: async () => {
      app.stop();
      return running;
    },
  };
}

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Reads back through InfluxDB 1.x's `/query` (InfluxQL), independently of the package; times in nanoseconds. */
export class InfluxQL {
  readonly url: string;
  readonly database: string;

  constructor(url: string, bucket: string) {
    this.url = url.replace(/\/+$/, "");
    this.database = bucket.split("/")[0]!;
  }

  async query(q: string): Promise<Series[]> {
    const response = await fetch(`${this.url}/query?db=${encodeURIComponent(this.database)}&epoch=ns&q=${encodeURIComponent(q)}`);
    const body = (await response.json()) as { results?: { series?: Series[]; error?: string }[]; error?: string };
    const error = body.error ?? body.results?.[0]?.error;
    if (!response.ok || error !== undefined) throw new Error(`InfluxQL '${q}': ${error ?? response.status}`);
    return body.results?.[0]?.series ?? [];
  }

  /** The rows of a measurement as objects (column → value), oldest first. */
  async rows(measurement: string, where = ""): Promise<Record<string, unknown>[]> {
    const series = await this.query(`SELECT * FROM "${measurement}"${where === "" ? "" : ` WHERE ${where}`}`);
    return series.flatMap((s) => s.values.map((values) => Object.fromEntries(s.columns.map((column, i) => [column, values[i]]))));
  }

  async count(measurement: string): Promise<number> {
    return (await this.rows(measurement)).length;
  }

  async drop(...measurements: string[]): Promise<void> {
    for (const m of measurements) await this.query(`DROP MEASUREMENT "${m}"`).catch(() => {});
  }
}

/** A source the test feeds by hand (`feed()`); its main() only waits for the stop. */
export class FeedSource<T = unknown> extends Source<T> {
  async main(): Promise<void> {
    await this.stopped();
  }

  feed(events: T[], contexts?: Context[]): Promise<void> {
    return this.processBatch(events, contexts);
  }
}

/** Contexts whose deliveries record how they settled. */
export function settlements(): { settled: Map<number, unknown>; context: (token: number, extra?: Context) => Context } {
  const settled = new Map<number, unknown>();
  return {
    settled,
    context: (token, extra = {}) => ({
      ...extra,
      [DELIVERY]: new Delivery<number>((d, error) => {
        if (settled.has(d.token)) throw new Error(`delivery ${d.token} settled twice`);
        settled.set(d.token, error ?? "done");
      }, token),
    }),
  };
}

/** A free TCP port on 127.0.0.1 (nothing listens on it when this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP proxy to the real server on a port that refuses connections until `open()`: "the server is down at start, and comes up". */
export class TcpProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** `url` with its port pointed at the proxy. */
  static async to(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 8086) });
    const via = new URL(url);
    via.port = String(proxy.port);
    return { proxy, url: via.toString() };
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      this.#sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.#server = server;
  }

  /** Cuts the connections open now; the port keeps accepting new ones. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

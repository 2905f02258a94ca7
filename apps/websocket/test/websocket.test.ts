import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RECORDED, recordedPrices, startStandIn } from "@pump/app-coindesk/stand-in";
import { deferrals, pumpsIn, type PumpProcess } from "@pump/app-coindesk/testing";
import { logging, Pipeline, PumpApplication, Sink, type Context } from "@pump/core";
import { WebSocketSource, type WebSocketContext } from "@pump/http";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();

const pump = pumpsIn(here);

/** Where a pump's web server listens, from its log line. */
async function webUrl(child: PumpProcess): Promise<string> {
  await child.waitFor("the web server listened", () => /Web API listening url="[^"]+"/.test(child.stderr));
  return /Web API listening url="([^"]+)"/.exec(child.stderr)![1]!;
}

/** Opens a WebSocket (Node's own client); resolves once it is open. */
async function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  defer(() => socket.close());
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  return socket;
}

describe("the server pump (node src/server.ts)", () => {
  it("takes WebSocket messages at /bspump/ws on its web server and prints each one", async () => {
    const child = pump(["src/server.ts", "-w", "127.0.0.1:0"]);
    const url = await webUrl(child);
    const socket = await connect(`${url.replace("http", "ws")}/bspump/ws`);
    socket.send("To be, or not to be?");
    socket.send(JSON.stringify({ bpi: { USD: { rate_float: 37789.625 } } }));
    await child.waitFor("both messages were printed", () => child.stdout.includes("37789.625"));
    expect(child.stdout).toBe(`'To be, or not to be?'\n'{"bpi":{"USD":{"rate_float":37789.625}}}'\n`);
    // The REST API is on the same server, and other paths take no WebSocket.
    expect(await (await fetch(`${url}/bspump/v1/pipelines`)).text()).toContain('"SamplePipeline"');
    await expect(connect(`${url.replace("http", "ws")}/elsewhere`)).rejects.toThrow(/cannot connect/);
    expect(await child.stop("SIGINT")).toBe(0);
  });
});

describe("the client pump (node src/client.ts -c FILE)", () => {
  it("sends each Coindesk answer as a text message to the server's url", async () => {
    const standIn = await startStandIn();
    defer(() => standIn.close());
    // A WebSocket server to receive: a pipeline with a WebSocketSource on its own listener (its logs kept quiet).
    logging.setWriter(() => {});
    defer(() => logging.setWriter(undefined));
    const app = new PumpApplication({ args: [] });
    const pipeline = new Pipeline(app, "Receiver");
    const received: [string, unknown][] = [];
    const source = new WebSocketSource(app, pipeline, { config: { listen: "127.0.0.1:0" } });
    pipeline.build(
      source,
      new (class extends Sink<Buffer | string> {
        process(context: Context, message: Buffer | string): void {
          received.push([(context as WebSocketContext).type, typeof message === "string" ? JSON.parse(message) : message]);
        }
      })(app, pipeline),
    );
    app.pumpService.addPipeline(pipeline);
    const running = app.run();
    defer(() => {
      app.stop();
      return running;
    });
    const { port } = await source.listening();
    const dir = mkdtempSync(join(tmpdir(), "websocket-"));
    writeFileSync(
      join(dir, "client.conf"),
      `[pipeline:SamplePipeline:HTTPClientTextSource]\nurl=${standIn.url}\n\n[pipeline:SamplePipeline:HTTPClientWebSocketSink]\nurl=http://127.0.0.1:${port}/bspump/ws\n`,
    );
    const child = pump(["src/client.ts", "-c", join(dir, "client.conf")]);
    await child.waitFor("two answers arrived", () => received.length >= 2);
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(received.slice(0, 2)).toEqual(recordedPrices().slice(0, 2).map((price) => ["text", price]));
  });
});

describe("both pumps together: `pnpm start:offline` (node src/offline.ts)", () => {
  it("the client sends the stand-in's answers to the server, which prints them; SIGTERM stops all with exit code 0", async () => {
    const child = pump(["src/offline.ts"]);
    await child.waitFor("two answers were printed", () => (child.stdout.match(/chartName/g) ?? []).length >= 2);
    expect(await child.stop("SIGTERM")).toBe(0);
    expect(child.stderr).toContain("Coindesk API stand-in (recorded answers, not the real API): http://127.0.0.1:8705/v1/bpi/currentprice.json");
    expect(child.stderr).toContain('Web API listening url="http://127.0.0.1:8706"');
    expect(child.stderr.match(/Stopped exitCode=0/g)).toHaveLength(2);
    // The client started once the server listened: no reconnection was needed.
    expect(child.stderr).not.toMatch(/WARN|ERROR/);
    // PPrintSink shows each message as a quoted string: the recorded answers, in order, as the client got them.
    expect(child.stdout.split("\n").slice(0, 2)).toEqual(RECORDED.slice(0, 2).map((body) => `'${body.toString("utf8").trimEnd()}\\n'`));
  });
});

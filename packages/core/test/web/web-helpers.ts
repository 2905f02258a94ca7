import { request as httpRequest, type Agent, type IncomingHttpHeaders } from "node:http";
import { ConfigFile, Pipeline, Processor, PumpApplication, type Context } from "../../src/index.js";
import { WebServer } from "../../src/web/index.js";
import { Boom, UnitTestSink, ListSource, until } from "../helpers.js";

/** Drops odd numbers. */
export class DropOdd extends Processor<number, number> {
  process(_context: Context, event: number): number | null {
    return event % 2 === 0 ? event : null;
  }
}

export interface RunningPump {
  app: PumpApplication;
  web: WebServer;
  url: string;
  /** `app.run()`'s promise: the exit code. */
  running: Promise<number>;
  /** Stops the pump and resolves its exit code. */
  stop: () => Promise<number>;
}

const running = new Set<RunningPump>();

/** Stops every pump a test started and left running (call from afterEach). */
export async function stopAll(): Promise<void> {
  const left = [...running];
  running.clear();
  await Promise.all(left.map((pump) => pump.stop()));
}

/** An application whose config is `conf`, built by `setup`, running, with its web API listening. */
export async function startPump(conf: string, setup: (app: PumpApplication) => void = () => {}): Promise<RunningPump> {
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(conf) });
  setup(app);
  const promise = app.run();
  const web = WebServer.of(app);
  let ended = false;
  void promise.finally(() => (ended = true));
  await until(() => web.listening || ended, "the web API to listen");
  if (!web.listening) throw new Error(`the pump did not start its web API (exit code ${await promise})`);
  const pump: RunningPump = {
    app,
    web,
    url: web.url!,
    running: promise,
    stop: async () => {
      running.delete(pump);
      app.stop();
      return promise;
    },
  };
  running.add(pump);
  return pump;
}

export interface Fixture {
  orders: Pipeline;
  ordersSink: UnitTestSink<number>;
  broken: Pipeline;
  brokenSink: UnitTestSink<string>;
}

/**
 * "Orders": ten numbers in, the odd ones dropped, five out. "Broken": "a", "bad", "c" through a
 * processor that throws on "bad": a hard error after "a".
 */
export function buildFixture(app: PumpApplication, ordersId = "Orders"): Fixture {
  const orders = new Pipeline(app, ordersId);
  const ordersSource = new ListSource<number>(app, orders);
  ordersSource.events = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const ordersSink = new UnitTestSink<number>(app, orders);
  orders.build(ordersSource, new DropOdd(app, orders), ordersSink);

  const broken = new Pipeline(app, "Broken");
  const brokenSource = new ListSource<string>(app, broken);
  brokenSource.events = ["a", "bad", "c"];
  brokenSource.batchSize = 1;
  const brokenSink = new UnitTestSink<string>(app, broken);
  broken.build(brokenSource, new Boom(app, broken), brokenSink);

  app.pumpService.addPipelines(orders, broken);
  return { orders, ordersSink, broken, brokenSink };
}

export async function settled(fixture: Fixture): Promise<void> {
  await until(() => fixture.ordersSink.events.length === 5 && fixture.broken.isError(), "the fixture pipelines to settle");
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request exactly as written (fetch would normalize the path), on a new connection unless an agent is given. */
export function rawRequest(url: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string; agent?: Agent } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname.replace(/^\[|\]$/g, ""), port, method, path, headers: options.headers, agent: options.agent ?? false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

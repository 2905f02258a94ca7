// The conformance kit of @pump/core/testing against HTTPClientSink and a real node:http server on
// loopback: the contract every sink keeps (settle after a 2xx, retry through an outage, throttle,
// flush on stop, report a refused event), the outage played by a TCP proxy in front of the server.
import { sinkConformance, TcpProxy } from "@pump/core/testing";
import { it } from "vitest";
import { HTTPClientSink } from "../src/index.js";
import { startServer } from "./helpers.js";

const cases = sinkConformance<{ n: number; bad?: boolean }>({
  name: "HTTPClientSink",
  // buffer_max_events below: 100 events, and more than a batch over
  capacity: 300,
  setUp: async () => {
    // stores the events of each request it answers 2xx; refuses (400) a request holding a bad one
    let stored = 0;
    const server = await startServer((request, response) => {
      const events = request.body.toString().split("\n").filter((line) => line !== "");
      if (events.some((line) => (JSON.parse(line) as { bad?: boolean }).bad === true)) {
        response.statusCode = 400;
        response.end("bad event");
        return;
      }
      stored += events.length;
      response.end("OK");
    });
    const { proxy, url } = await TcpProxy.to(server.url, 80);
    await proxy.open();
    return {
      create: (app, pipeline) =>
        new HTTPClientSink(app, pipeline, {
          config: { url, batch_size: 1, linger: 0.01, buffer_max_events: 100, timeout: 2, retry_backoff: 0.05, retry_backoff_max: 0.3 },
        }),
      event: (n) => ({ n }),
      rejected: (n) => ({ n, bad: true }),
      stored: () => Promise.resolve(stored),
      outage: () => proxy.outage(),
      tearDown: async () => {
        await proxy.close();
        await server.close();
      },
    };
  },
});
for (const c of cases) it(c.name, c.run);

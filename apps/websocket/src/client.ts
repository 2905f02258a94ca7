// The client producer of BSPump's "WebSocket Example": a pump that polls the Coindesk API every
// 5 seconds and sends each answer over a WebSocket to the server pump (server.ts).
//
//   node src/client.ts [-c FILE]      (pnpm start:client)
import { PeriodicTrigger, Pipeline, PumpApplication, type PumpService } from "@pump/core";
import { HTTPClientTextSource, HTTPClientWebSocketSink } from "@pump/http";

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      // The body as text, so it travels as a text message and the server prints it as text.
      new HTTPClientTextSource(app, this, {
        config: { url: "https://api.coindesk.com/v1/bpi/currentprice.json" },
        // Trigger that triggers the source every 5 seconds (based on the method parameter)
      }).on(new PeriodicTrigger(app, 5)),
      new HTTPClientWebSocketSink(app, this, {
        config: { url: "http://127.0.0.1:8080/bspump/ws" },
      }),
    );
  }
}

/** The tutorial's `__main__` block, as a function so that main.ts can run this pump beside the server. */
export function clientPump(args?: string[]): PumpApplication {
  const app = new PumpApplication({ args });
  const svc = app.getService<PumpService>("bspump.PumpService");
  // Construct and register Pipeline
  const pl = new SamplePipeline(app, "SamplePipeline");
  svc.addPipeline(pl);
  return app;
}

if (import.meta.main) process.exitCode = await clientPump().run();

// The server consumer of BSPump's "WebSocket Example": a pump whose web server takes WebSocket
// connections at /bspump/ws and prints every message it receives.
//
//   node src/server.ts [-w 127.0.0.1:8080] [-c FILE]      (pnpm start:server)
import { setTimeout as sleep } from "node:timers/promises";
import { Pipeline, PPrintSink, PumpApplication, WebServer, type PumpService } from "@pump/core";
import { WebSocketSource } from "@pump/http";

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(new WebSocketSource(app, this), new PPrintSink(app, this));
  }
}

/** The tutorial's `__main__` block, as a function so that main.ts can run this pump beside the client. */
export function serverPump(args?: string[]): PumpApplication {
  const app = new PumpApplication({ args });
  // BSPumpApplication(web_listen="0.0.0.0:8080"); here 127.0.0.1 unless -w or [web] listen says otherwise.
  if (app.config.get("web", "listen") === undefined) app.config.set("web", "listen", "127.0.0.1:8080");
  const svc = app.getService<PumpService>("bspump.PumpService");
  // Construct and register Pipeline
  const pl = new SamplePipeline(app, "SamplePipeline");
  svc.addPipeline(pl);
  // The tutorial's app.WebContainer.WebApp.router.add_get('/bspump/ws', pl.WebSocketSource.handler)
  (pl.locateSource("WebSocketSource") as WebSocketSource).mount(WebServer.of(app), "/bspump/ws");
  return app;
}

/** Resolves true once the pump's web server listens, false if the pump stopped first (`running`: its `run()`). */
export async function listening(app: PumpApplication, running: Promise<number>): Promise<boolean> {
  const pump = { stopped: false };
  void running.finally(() => (pump.stopped = true));
  for (;;) {
    if (WebServer.of(app).listening) return true;
    if (pump.stopped) return false;
    await sleep(10);
  }
}

if (import.meta.main) process.exitCode = await serverPump().run();

// The demo pump: `pnpm demo` from the repository root, Ctrl-C to stop.
import { PumpApplication } from "@pump/core";
import { mountDashboard } from "@pump/dashboard";
import { SensorPipeline } from "./sensor-pipeline.ts";

const app = new PumpApplication();
const pipeline = app.pumpService.addPipeline(new SensorPipeline(app, "SensorPipeline"));

// Every 10 seconds, what the pipeline counted so far (BSPump's event.in / out / drop).
app.pubsub.subscribe("Application.tick/10!", () => {
  const { in: taken, out, drop } = pipeline.metrics.counters();
  process.stderr.write(`  [metrics] in=${taken} out=${out} dropped=${drop}\n`);
});

// The live dashboard, on [web] listen of etc/demo.conf (loopback only); its URL once it listens.
const dashboard = mountDashboard(app);
void dashboard.listening.then((url) => process.stderr.write(`  [dashboard] ${url} — open it in a browser\n`));

process.exitCode = await app.run();

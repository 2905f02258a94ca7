// The demo pump: `pnpm demo` from the repository root, Ctrl-C to stop.
import { PumpApplication } from "@pump/core";
import { SensorPipeline } from "./sensor-pipeline.ts";

const app = new PumpApplication();
const pipeline = app.pumpService.addPipeline(new SensorPipeline(app, "SensorPipeline"));

// Every 10 seconds, what the pipeline counted so far (BSPump's event.in / out / drop).
app.pubsub.subscribe("Application.tick/10!", () => {
  const { in: taken, out, drop } = pipeline.metrics.counters();
  process.stderr.write(`  [metrics] in=${taken} out=${out} dropped=${drop}\n`);
});

process.exitCode = await app.run();

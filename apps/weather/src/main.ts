// The pump: `pnpm --filter @pump/app-weather start` (node src/main.ts -c etc/weather-pump.conf); Ctrl-C stops it.
import { PumpApplication, type PumpService } from "@pump/core";
import { SamplePipeline } from "./pipeline.ts";

const app = new PumpApplication();
const svc = app.getService<PumpService>("bspump.PumpService");
const pl = new SamplePipeline(app, "SamplePipeline");
svc.addPipeline(pl);
process.exitCode = await app.run();

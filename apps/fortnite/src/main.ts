// The pump: `pnpm --filter @pump/app-fortnite start` (node src/main.ts -c etc/config.conf); Ctrl-C stops it.
import { PumpApplication, type PumpService } from "@pump/core";
import { SamplePipeline } from "./pipeline.ts";

const app = new PumpApplication();
const svc = app.getService<PumpService>("bspump.PumpService");
// Construct and register Pipeline
const pl = new SamplePipeline(app, "SamplePipeline");
svc.addPipeline(pl);
process.exitCode = await app.run();

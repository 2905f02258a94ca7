// The pump: `pnpm --filter @pump/app-tarkov start` (node src/main.ts [-c FILE]); Ctrl-C stops it.
import { PumpApplication, type PumpService } from "@pump/core";
import { SamplePipeline } from "./pipeline.ts";

const app = new PumpApplication();
const svc = app.getService<PumpService>("bspump.PumpService");
const pl = new SamplePipeline(app, "SamplePipeline");
svc.addPipeline(pl);
process.exitCode = await app.run();

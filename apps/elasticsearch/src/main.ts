// The pump: `pnpm --filter @pump/app-elasticsearch start` (node src/main.ts -c etc/weather-es.conf); Ctrl-C stops it.
import { PumpApplication, type PumpService } from "@pump/core";
import { ElasticSearchConnection } from "@pump/elasticsearch";
import { SamplePipeline } from "./pipeline.ts";

const app = new PumpApplication();
const svc = app.getService<PumpService>("bspump.PumpService");

// Part where you add the ESConnection service (before the pipelines that use it)
const es_connection = new ElasticSearchConnection(app, "ESConnection");
svc.addConnection(es_connection);

// Construct and register Pipeline
const pl = new SamplePipeline(app, "SamplePipeline");
svc.addPipeline(pl);
process.exitCode = await app.run();

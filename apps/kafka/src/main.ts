// The pump: `pnpm --filter @pump/app-kafka start` (node src/main.ts -c etc/kafka.conf); Ctrl-C stops it.
import { PumpApplication, type PumpService } from "@pump/core";
import { KafkaConnection } from "@pump/kafka";
import { SamplePipeline } from "./pipeline.ts";

const app = new PumpApplication();
const svc = app.getService<PumpService>("bspump.PumpService");

// The connection first: the pipeline's KafkaSink finds it by its id.
svc.addConnection(new KafkaConnection(app, "KafkaConnection"));

const pl = new SamplePipeline(app, "SamplePipeline");
svc.addPipeline(pl);
process.exitCode = await app.run();

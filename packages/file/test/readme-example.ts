import { Pipeline, Processor, PumpApplication, RunOnceTrigger, type Context } from "@pump/core";
import { FileCSVSink, FileCSVSource, type CsvRow } from "@pump/file";

class Total extends Processor<CsvRow, CsvRow> {
  process(context: Context, row: CsvRow) {
    return { ...row, total: Number(row.price) * Number(row.quantity), file: String(context.filename) };
  }
}

const app = new PumpApplication(); // node pump.ts -c pump.conf
const pipeline = new Pipeline(app, "OrdersPipeline");
pipeline.build(
  new FileCSVSource(app, pipeline).on(new RunOnceTrigger(app)),
  new Total(app, pipeline),
  new FileCSVSink(app, pipeline),
);
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

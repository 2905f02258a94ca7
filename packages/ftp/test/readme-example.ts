import { Pipeline, PrintSink, Processor, PumpApplication, RunOnceTrigger, StdJsonToDictParser, type Context } from "@pump/core";
import { FTPConnection, FTPSource } from "@pump/ftp";

type Order = { item: string; quantity: number };

class Describe extends Processor<Order, string> {
  process(context: Context, order: Order): string {
    return `${order.quantity} x ${order.item} (${String(context.filename)}:${String(context.line)})`;
  }
}

const app = new PumpApplication(); // node pump.ts -c pump.conf
app.pumpService.addConnection(new FTPConnection(app, "FTPConnection"));
const pipeline = new Pipeline(app, "OrdersPipeline");
pipeline.build(
  new FTPSource<string>(app, pipeline, "FTPConnection").on(new RunOnceTrigger(app)),
  new StdJsonToDictParser<Order>(app, pipeline),
  new Describe(app, pipeline),
  new PrintSink(app, pipeline),
);
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

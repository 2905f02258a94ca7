import { Pipeline, Processor, PumpApplication, RunOnceTrigger, StdJsonToDictParser, type Context } from "@pump/core";
import { HTTPClientSink, HTTPClientSource } from "@pump/http";

type Price = { bpi: Record<string, { code: string; rate_float: number }> };

/** Adds the price in yen (the Coindesk tutorial's EnrichProcessor). */
class EnrichProcessor extends Processor<Price, Price> {
  process(_context: Context, event: Price): Price {
    const usd = event.bpi.USD?.rate_float ?? 0;
    event.bpi.JPY = { code: "JPY", rate_float: usd * 113.7 };
    return event;
  }
}

const app = new PumpApplication(); // node pump.ts -c pump.conf
const pipeline = new Pipeline(app, "CoindeskPipeline");
pipeline.build(
  new HTTPClientSource(app, pipeline).on(new RunOnceTrigger(app)),
  new StdJsonToDictParser<Price>(app, pipeline),
  new EnrichProcessor(app, pipeline),
  new HTTPClientSink(app, pipeline),
);
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

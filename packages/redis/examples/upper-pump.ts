// A pump from one Redis list to another: node upper-pump.ts -c upper-pump.conf
import { Pipeline, Processor, PumpApplication, type Context } from "@pump/core";
import { RedisConnection, RedisListSink, RedisListSource } from "@pump/redis";

/** Upper-cases each element's text. */
class Upper extends Processor<string, string> {
  process(_context: Context, text: string): string {
    return text.toUpperCase();
  }
}

const app = new PumpApplication();
app.pumpService.addConnection(new RedisConnection(app, "RedisConnection"));
const pipeline = new Pipeline(app, "UpperPipeline");
pipeline.build(
  new RedisListSource(app, pipeline, "RedisConnection"),
  new Upper(app, pipeline),
  new RedisListSink(app, pipeline, "RedisConnection"),
);
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

// A pump from one Kafka topic to another: node upper-pump.ts -c upper-pump.conf
import { Pipeline, Processor, PumpApplication, type Context } from "@pump/core";
import { KafkaConnection, KafkaSink, KafkaSource } from "@pump/kafka";

/** Upper-cases each record's text; a tombstone (null) is dropped. */
class Upper extends Processor<Buffer | null, string | null> {
  process(_context: Context, value: Buffer | null): string | null {
    return value === null ? null : value.toString("utf8").toUpperCase();
  }
}

const app = new PumpApplication();
app.pumpService.addConnection(new KafkaConnection(app, "KafkaConnection"));
const pipeline = new Pipeline(app, "UpperPipeline");
pipeline.build(
  new KafkaSource(app, pipeline, "KafkaConnection"),
  new Upper(app, pipeline),
  new KafkaSink(app, pipeline, "KafkaConnection"),
);
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

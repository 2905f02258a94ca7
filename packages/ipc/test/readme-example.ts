import { Pipeline, Processor, PumpApplication, type Context } from "@pump/core";
import { StreamClientSink, StreamServerSource, type StreamContext } from "@pump/ipc";

class Tag extends Processor<string, string> {
  process(context: Context, line: string) {
    return `${(context as StreamContext).stream_peer}: ${line.toUpperCase()}\n`;
  }
}

const app = new PumpApplication(); // node relay.ts -c relay.conf
const pipeline = new Pipeline(app, "RelayPipeline");
pipeline.build(new StreamServerSource<string>(app, pipeline), new Tag(app, pipeline), new StreamClientSink(app, pipeline));
app.pumpService.addPipeline(pipeline);
process.exitCode = await app.run();

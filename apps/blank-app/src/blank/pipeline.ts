import { Pipeline, PPrintSink, type PumpApplication } from "@pump/core";
import { TCPSource } from "@pump/ipc";
import { ShakespeareanEnricher } from "./processor.ts";

/**
 * To test this pipeline, use:
 *   socat STDIO TCP:127.0.0.1:8888
 * or visit http://localhost:8080/blank?message=die
 */
export class TCPPipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      // One event per line a client sends. The tutorial listens on 0.0.0.0 (every interface); this one
      // on 127.0.0.1 unless [pipeline:TCPPipeline:TCPSource] host= says otherwise.
      new TCPSource(app, this, { id: "TCPSource", config: { host: "127.0.0.1", port: 8888 } }),
      new ShakespeareanEnricher(app, this),
      new PPrintSink(app, this, { stream: process.stderr }),
    );
  }
}

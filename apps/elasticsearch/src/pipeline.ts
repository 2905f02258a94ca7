// The weather pump of BSPump's Weather API tutorial, its PPrintSink replaced by an ElasticSearchSink,
// as the tutorials "How to connect to Elastic Search" and "Install ElasticSearch and Kibana via Docker"
// show it: the weather of London, New York and Berlin every 5 seconds, stored in the index
// weather-pump-test.
import { PeriodicTrigger, Pipeline, StdJsonToDictParser, type PumpApplication } from "@pump/core";
import { ElasticSearchSink } from "@pump/elasticsearch";
// The weather app's multi-city source (apps/weather/src/pipeline.ts).
import { LoadSource } from "@pump/app-weather/pipeline";

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      new LoadSource(app, this).on(new PeriodicTrigger(app, 5)),
      // JSON text in, the document out.
      new StdJsonToDictParser<Record<string, unknown>>(app, this),
      // Sends the documents in bulks over the connection "ESConnection"; the index is in the .conf file.
      new ElasticSearchSink(app, this, "ESConnection"),
    );
  }
}

// The coindesk pump of BSPump's Coindesk API tutorial, its PPrintSink replaced by a KafkaSink, as the
// tutorial "Install Kafka and KafDrop via Docker" runs it: the Bitcoin price every 5 seconds, with the
// price in yen added, as a JSON message in the topic coindesk-data.
import { PeriodicTrigger, Pipeline, StdJsonToDictParser, type PumpApplication } from "@pump/core";
import { HTTPClientSource } from "@pump/http";
import { KafkaSink } from "@pump/kafka";
// The coindesk app's processor (apps/coindesk/src/pipeline.ts).
import { EnrichProcessor, type CurrentPrice } from "@pump/app-coindesk/pipeline";

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      new HTTPClientSource(app, this, {
        config: { url: "https://api.coindesk.com/v1/bpi/currentprice.json" },
      }).on(new PeriodicTrigger(app, 5)),
      new StdJsonToDictParser<CurrentPrice>(app, this),
      new EnrichProcessor(app, this),
      // Each event becomes a record of the topic in the .conf file, the object written as JSON.
      new KafkaSink(app, this, "KafkaConnection"),
    );
  }
}

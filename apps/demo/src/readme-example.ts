import { PeriodicTrigger, Pipeline, Processor, PumpApplication, Sink, TriggerSource, type Context } from "@pump/core";

class Ticks extends TriggerSource<number> {
  async cycle() { await this.processBatch([Date.now(), Date.now() + 1]); }
}
class Describe extends Processor<number, string> {
  process(context: Context, ms: number) { return new Date(ms).toISOString(); }
}
class Print extends Sink<string> {
  process(context: Context, line: string) { console.log(line); }
}
class TickPipeline extends Pipeline {
  constructor(app: PumpApplication, id: string) {
    super(app, id);
    this.build(new Ticks(app, this).on(new PeriodicTrigger(app, 1)), new Describe(app, this), new Print(app, this));
  }
}
const app = new PumpApplication();                       // reads -c FILE, --help, signals
app.pumpService.addPipeline(new TickPipeline(app, "TickPipeline"));
process.exitCode = await app.run();                      // SIGINT/SIGTERM: orderly stop, exit 0

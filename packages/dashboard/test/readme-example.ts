import { PeriodicTrigger, Pipeline, Processor, PumpApplication, Sink, TriggerSource, type Context } from "@pump/core";
import { mountDashboard } from "@pump/dashboard";

class Readings extends TriggerSource<number> {
  async cycle() { await this.processBatch([Math.random() * 40, Math.random() * 40]); }
}
class DropCold extends Processor<number, number> {
  process(context: Context, celsius: number) { return celsius < 5 ? null : celsius; }
}
class Store extends Sink<number> {
  process(context: Context, celsius: number) { this.log.debug("stored", { celsius }); }
}
class ReadingsPipeline extends Pipeline {
  constructor(app: PumpApplication, id: string) {
    super(app, id);
    this.build(new Readings(app, this).on(new PeriodicTrigger(app, 0.1)), new DropCold(app, this), new Store(app, this));
  }
}
const app = new PumpApplication();                       // node pump.ts -c pump.conf
app.pumpService.addPipeline(new ReadingsPipeline(app, "Readings"));
const dashboard = mountDashboard(app);                   // before run(): the page at [web] listen, "/"
void dashboard.listening.then((url) => console.log(`dashboard: ${url}`));
process.exitCode = await app.run();

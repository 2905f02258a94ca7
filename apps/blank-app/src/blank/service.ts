import { WebResponse, WebServer, type PumpService } from "@pump/core";
import { Service, type Application } from "./asab.ts";
import { TCPPipeline } from "./pipeline.ts";

export class BlankService extends Service {
  TCPPipeline: TCPPipeline | undefined;

  constructor(app: Application, serviceName = "blank.BlankService") {
    super(app, serviceName);
  }

  override async initialize(app: Application): Promise<void> {
    const svc = app.getService<PumpService>("bspump.PumpService");

    // Create and register all connections here

    // Create and register all matrices here

    // Create and register all lookups here

    // Create and register all pipelines here
    this.TCPPipeline = new TCPPipeline(app, "TCPPipeline");
    svc.addPipeline(this.TCPPipeline);

    // http://localhost:8080/blank?message=die (with [web] listen set)
    WebServer.of(app).route("GET", "/blank", async (request) => WebResponse.text(`${await this.getData(request.query.get("message") ?? undefined)}\n`));
  }

  async getData(message = "be"): Promise<string> {
    await this.TCPPipeline?.process(message);
    return "Check stdout";
  }
}

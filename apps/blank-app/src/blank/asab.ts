// BSPump applications are built on ASAB: an Application made of Modules, each of which brings
// Services. @pump/core has the application (PumpApplication, with its registry of services:
// `registerService`, `getService`) but no Module or Service classes; these are the little of them the
// Blank App layout uses, with ASAB's names.
import { PumpApplication } from "@pump/core";

/** asab.Service: registered under its name when made; `initialize` runs before the pump starts, `finalize` after it stopped. */
export abstract class Service {
  readonly app: Application;
  readonly serviceName: string;

  constructor(app: Application, serviceName: string) {
    this.app = app;
    this.serviceName = serviceName;
    app.registerService(serviceName, this);
    app.services.push(this);
  }

  async initialize(_app: Application): Promise<void> {}

  async finalize(_app: Application): Promise<void> {}
}

/** asab.Module: a part of the application; makes its services in its constructor. */
export abstract class Module {
  readonly app: Application;

  constructor(app: Application) {
    this.app = app;
  }
}

/** asab.Application (with BSPump's PumpApplication): modules, and their services initialized around `run()`. */
export class Application extends PumpApplication {
  readonly modules: Module[] = [];
  readonly services: Service[] = [];

  addModule(module: new (app: Application) => Module): void {
    this.modules.push(new module(this));
  }

  override async run(): Promise<number> {
    for (const service of this.services) await service.initialize(this);
    try {
      return await super.run();
    } finally {
      for (const service of this.services.toReversed()) await service.finalize(this);
    }
  }
}

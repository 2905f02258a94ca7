import type { PumpApplicationOptions } from "@pump/core";
import { Application } from "./asab.ts";
import { BlankModule } from "./module.ts";

export class BlankAppApplication extends Application {
  constructor(options?: PumpApplicationOptions) {
    super(options);
    this.addModule(BlankModule);
  }
}

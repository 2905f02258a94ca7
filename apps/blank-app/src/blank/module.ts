import { Module, type Application } from "./asab.ts";
import { BlankService } from "./service.ts";

export class BlankModule extends Module {
  readonly BlankService: BlankService;

  constructor(app: Application) {
    super(app);
    this.BlankService = new BlankService(app);
  }
}

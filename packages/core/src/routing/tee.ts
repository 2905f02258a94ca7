import { NotFoundError, RoutingError } from "../errors.js";
import type { Context } from "../context.js";
import { InternalSource } from "./internal-source.js";
import { RouterProcessor } from "./router-processor.js";

/**
 * Passes every event on and sends a copy to each bound target ("Pipeline.*Source"). Targets are
 * located when the pipeline starts, so a wrong address fails at start-up, not on the first event.
 */
export class TeeProcessor<T = unknown> extends RouterProcessor<T, T> {
  readonly targets: string[] = [];

  bind(target: string): this {
    if (!this.targets.includes(target)) this.targets.push(target);
    if (this.pipeline.running) this.router.locate(target);
    return this;
  }

  unbind(target: string): this {
    const index = this.targets.indexOf(target);
    if (index >= 0) this.targets.splice(index, 1);
    this.router.unlocate(target);
    return this;
  }

  override start(): void {
    for (const target of this.targets) this.router.locate(target);
  }

  process(context: Context, event: T): T {
    const targets = this.targets;
    for (let i = 0; i < targets.length; i++) this.route(context, event, targets[i]!);
    return event;
  }
}

/**
 * The receiving end of a tee, wired from the consumer side: `new TeeSource(app, this).bind("Pipeline.TeeProcessor")`
 * binds this source to that TeeProcessor when it starts and unbinds when it stops.
 */
export class TeeSource<T = unknown> extends InternalSource<T> {
  readonly teeAddresses: string[] = [];

  bind(processorAddress: string): this {
    this.teeAddresses.push(processorAddress);
    return this;
  }

  override start(): void {
    for (const address of this.teeAddresses) this.#tee(address).bind(this.locateAddress());
    super.start();
  }

  override async stop(timeoutSeconds?: number): Promise<boolean> {
    for (const address of this.teeAddresses) {
      const tee = this.app.pumpService.locate(address);
      if (tee instanceof TeeProcessor) tee.unbind(this.locateAddress());
    }
    return super.stop(timeoutSeconds);
  }

  #tee(address: string): TeeProcessor {
    const found = this.app.pumpService.locate(address);
    if (found === undefined) throw new NotFoundError("TeeProcessor", address, `bound by '${this.locateAddress()}'`);
    if (!(found instanceof TeeProcessor)) throw new RoutingError(`TeeSource '${this.locateAddress()}' needs a TeeProcessor at '${address}'`);
    return found;
  }
}

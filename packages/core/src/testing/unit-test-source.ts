import { Source } from "../component/source.js";

/** The source of a test pipeline: the harness hands it events; on its own it produces nothing. */
export class UnitTestSource<T = unknown> extends Source<T> {
  async main(): Promise<void> {
    await this.stopped();
  }
}

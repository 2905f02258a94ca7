import { PumpApplication } from "../application/application.js";
import type { ComponentOptions } from "../component/options.js";
import { ConfigFile } from "../config/conf-file.js";
import type { Context } from "../context.js";
import type { AnyProcessor } from "../pipeline/chain.js";
import { Pipeline } from "../pipeline/pipeline.js";
import { ManualClock } from "./manual-clock.js";
import { UnitTestSink } from "./unit-test-sink.js";
import { UnitTestSource } from "./unit-test-source.js";

/** What a test gives: a processor class (built with `(app, pipeline, options)`) or a factory. */
export type ProcessorSpec =
  | (new (app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) => AnyProcessor)
  | ((app: PumpApplication, pipeline: Pipeline) => AnyProcessor);

export interface ProcessorTestCaseOptions {
  /** `.conf` text, or a loaded file, the components read their sections from. */
  config?: string | ConfigFile | undefined;
  /** Epoch seconds the clock starts at (default: 2025-01-01T00:00:00Z). */
  now?: number | undefined;
}

/** The application of a test: its clock is a ManualClock. */
class TestApplication extends PumpApplication {
  readonly clock: ManualClock;

  constructor(config: ConfigFile, now: number) {
    super({ args: [], config });
    this.clock = new ManualClock(now, () => this.tick());
  }

  override time(): number {
    return this.clock.now;
  }
}

function isClass(spec: ProcessorSpec): spec is new (app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) => AnyProcessor {
  return typeof spec === "function" && /^class[\s{]/.test(Function.prototype.toString.call(spec));
}

/**
 * BSPump's ProcessorTestCase for any test runner (vitest, `node --test`...): a pipeline
 * UnitTestSource → the processor(s) under test → UnitTestSink, an application with a manual clock,
 * and `execute([[context, event], ...])` returning what reached the sink.
 *
 *     const t = new ProcessorTestCase();
 *     t.setUpProcessor(MyProcessor);
 *     const output = await t.execute([[{}, { foo: "bar" }]]);
 */
export class ProcessorTestCase {
  readonly app: PumpApplication;
  readonly clock: ManualClock;
  #pipeline: Pipeline | undefined;
  #sink: UnitTestSink | undefined;

  constructor(options: ProcessorTestCaseOptions = {}) {
    const config = typeof options.config === "string" ? ConfigFile.parse(options.config, "<test config>") : (options.config ?? ConfigFile.empty());
    const app = new TestApplication(config, options.now ?? Date.UTC(2025, 0, 1) / 1000);
    this.app = app;
    this.clock = app.clock;
  }

  /** The pipeline under test (after `setUpProcessor`). */
  get pipeline(): Pipeline {
    if (this.#pipeline === undefined) throw new Error("ProcessorTestCase: call setUpProcessor() first");
    return this.#pipeline;
  }

  /** Builds the test pipeline around one or more processors (given in chain order); returns the first. */
  setUpProcessor(...specs: ProcessorSpec[]): AnyProcessor {
    const pipeline = new Pipeline(this.app, "UnitTestPipeline");
    const processors = specs.map((spec) => (isClass(spec) ? new spec(this.app, pipeline) : spec(this.app, pipeline)));
    this.#sink = new UnitTestSink(this.app, pipeline);
    pipeline.setSource(new UnitTestSource(this.app, pipeline));
    for (const processor of processors) pipeline.appendProcessor(processor);
    pipeline.appendProcessor(this.#sink);
    this.app.pumpService.addPipeline(pipeline);
    this.#pipeline = pipeline;
    return processors[0]!;
  }

  /**
   * Runs the inputs through the pipeline as one batch and waits for generators to finish; resolves
   * the `[context, event]` pairs that reached the sink during this call. A hard error rejects with it.
   */
  async execute(input: readonly (readonly [Context | null | undefined, unknown])[]): Promise<[Context, unknown][]> {
    const pipeline = this.pipeline;
    const sink = this.#sink!;
    if (!pipeline.running) await pipeline.start();
    const start = sink.output.length;
    const failed = new Promise<never>((_, reject) => {
      const onError = (): void => {
        pipeline.pubsub.unsubscribe("bspump.pipeline.error!", onError);
        reject(pipeline.error?.error);
      };
      if (pipeline.isError()) onError();
      else pipeline.pubsub.subscribe("bspump.pipeline.error!", onError);
    });
    failed.catch(() => {});
    const done = (async () => {
      await pipeline.processBatch(
        input.map(([, event]) => event),
        input.map(([context]) => ({ ...context })),
      );
      while (pipeline.futures > 0) await new Promise((resolve) => setImmediate(resolve));
    })();
    await Promise.race([done, failed]);
    return sink.output.slice(start);
  }

  /** Moves the clock on, ticking the application once per second. */
  advance(seconds: number): void {
    this.clock.advance(seconds);
  }

  /** Stops the pipeline (sinks flush, aggregators emit what they hold) and resolves what reached the sink since the last `execute`. */
  async tearDown(): Promise<[Context, unknown][]> {
    const sink = this.#sink;
    const before = sink?.output.length ?? 0;
    await this.app.pumpService.finalize();
    return sink === undefined ? [] : sink.output.slice(before);
  }
}

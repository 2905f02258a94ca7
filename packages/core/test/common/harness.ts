// Runs common processors inside real pipelines, as BSPump's ProcessorTestCase does: events (with
// optional contexts) go through the components under test into a UnitTestSink.
import { Pipeline, type AnyProcessor, type Context, type PumpApplication } from "../../src/index.js";
import { ParseError } from "../../src/errors.js";
import { UnitTestSink, ListSource, createApp } from "../helpers.js";

/** A pipeline that treats ParseError as a soft error: the event is dropped, a warning counted, the pipeline goes on. */
export class SoftParsePipeline extends Pipeline {
  override handleError(error: unknown): boolean {
    return error instanceof ParseError;
  }
}

export interface Harness {
  app: PumpApplication;
  pipeline: Pipeline;
  sink: UnitTestSink;
  /** Sends a batch through; resolves when the batch went through the synchronous part of the chain. */
  send(events: readonly unknown[], contexts?: readonly Context[]): Promise<void>;
  /** The events that reached the sink. */
  readonly output: unknown[];
}

/**
 * Builds `ListSource → ...make(app, pipeline) → UnitTestSink` (no UnitTestSink when `make` ends with a
 * sink) and starts it. `soft` makes ParseErrors soft.
 */
export async function harness(make: (app: PumpApplication, pipeline: Pipeline) => AnyProcessor[], options: { soft?: boolean } = {}): Promise<Harness> {
  const app = createApp();
  const pipeline = options.soft === true ? new SoftParsePipeline(app, "P") : new Pipeline(app, "P");
  const processors = make(app, pipeline);
  const sink = new UnitTestSink(app, pipeline);
  pipeline.setSource(new ListSource(app, pipeline));
  for (const processor of processors) pipeline.appendProcessor(processor);
  if (processors.at(-1)?.kind !== 2) pipeline.appendProcessor(sink);
  await pipeline.start();
  return {
    app,
    pipeline,
    sink,
    send: (events, contexts) => pipeline.processBatch(events, contexts),
    get output() {
      return sink.events;
    },
  };
}

/** The ParseError a hard-failing pipeline stopped on. */
export function parseErrorOf(pipeline: Pipeline): ParseError {
  const error = pipeline.error?.error;
  if (!(error instanceof ParseError)) throw new Error(`expected the pipeline to stop on a ParseError, got ${String(error)}`);
  return error;
}

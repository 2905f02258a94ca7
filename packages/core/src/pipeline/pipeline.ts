import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import type { Connection } from "../component/connection.js";
import type { Generator } from "../component/generator.js";
import { KIND_GENERATOR, KIND_SINK, type ProcessorBase } from "../component/processor-base.js";
import type { Sink } from "../component/sink.js";
import type { Source } from "../component/source.js";
import type { Context } from "../context.js";
import { DELIVERY } from "../delivery/delivery.js";
import { NotConsumedError, NotFoundError, PipelineBuildError, StoppedError } from "../errors.js";
import type { LogRecord, Logger } from "../logger.js";
import { PubSub } from "../pubsub.js";
import { Router } from "../routing/router.js";
import { Batch, type BatchHost } from "./batch.js";
import type { AnyProcessor, AnySink, Chain } from "./chain.js";
import { chainLoops, type ChainLoops, type Spawn } from "./fused.js";
import { PipelineMetrics, type PipelineMetricsSnapshot } from "./metrics.js";

export interface PipelineOptions {
  id?: string | undefined;
  config?: ConfigValues | undefined;
}

/** The hard error a pipeline is stopped by, until it is cleared. */
export interface PipelineErrorState {
  error: unknown;
  context: Context | undefined;
  event: unknown;
  /** Id of the component that failed, when known. */
  componentId: string | undefined;
  /** Epoch seconds. */
  at: number;
}

/** What throttles a pipeline while its generators' futures are at the concurrency limit. */
const FUTURES_THROTTLER = Object.freeze({ id: "AsyncFuturesThrottler" });

/** A ready source is made to yield to the event loop at least this often (ms), so timers and I/O keep running. */
const CHILLOUT_MS = 10;
const RESOLVED: Promise<void> = Promise.resolve();
const RECENT_LOG_SIZE = 50;
/**
 * One batch in this many is timed call by call (the first one too): the processors'
 * `profile.duration` is estimated from it. Reading the clock costs more than a trivial processor:
 * timing one batch in 64 took 13% of W2's time.
 */
const PROFILE_EVERY = 1024;
const SOFT_ERROR_LOG_INTERVAL_MS = 10_000;

/** A sink that does not confirm deliveries itself is done with an event once `process` returned. */
function settleSinkShare(sink: Sink, context: Context): void {
  if (!sink.confirmsDelivery) context[DELIVERY]?.done();
}

type Waiter<T> = ReturnType<typeof Promise.withResolvers<T>>;

function waiter<T>(): Waiter<T> {
  const w = Promise.withResolvers<T>();
  w.promise.catch(() => {}); // a stop may reject it with nobody waiting
  return w;
}

function nameOf(who: unknown): string {
  if (typeof who === "object" && who !== null && "id" in who) return String((who as { id: unknown }).id);
  return String(who);
}

/**
 * Sources feed a chain of processors that ends in a sink. Events flow in batches, each processor
 * sees one event at a time, synchronously; the pipeline tracks readiness (errors and throttles) so
 * sources wait instead of buffering, and settles each tracked event's delivery exactly once.
 */
export class Pipeline {
  static ConfigDefaults: ConfigValues = { async_concurrency_limit: 1000 };

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly pubsub: PubSub;
  readonly log: Logger;
  readonly metrics = new PipelineMetrics();
  readonly sources: Source[] = [];
  /** The most recent log records of this pipeline and its components, newest last. */
  readonly recentLog: LogRecord[] = [];

  #processors: ProcessorBase[] = [];
  #depths: ProcessorBase[][] = [[]];
  readonly #spawnTo: Spawn = (generator, context, event, depth) => this.#spawn(generator, context, event, depth);
  /** Each depth's chain compiled into its loop (see `fused.ts`); remade when the processors change. */
  #loops: ChainLoops[] = [chainLoops([], 0, this.#spawnTo)];
  /** Batches run so far: one in PROFILE_EVERY is timed call by call, for the processors' profile. */
  #batches = 0;
  readonly #throttles = new Set<unknown>();
  readonly #ancestors = new Set<Pipeline>();
  #error: PipelineErrorState | undefined;
  #state: "idle" | "running" | "stopping" = "idle";
  #isReady = false;
  #readyWait: Waiter<void> | undefined;
  #clearedWait: Waiter<boolean> | undefined;
  readonly #futures = new Set<Promise<unknown>>();
  readonly #futuresLimit: number;
  #lastYield = performance.now();
  readonly #repeatedLogs = new Map<string, { loggedAt: number; suppressed: number }>();
  #errorRoute: string | AnySink | undefined;
  #router: Router | undefined;
  readonly #host: BatchHost;

  constructor(app: PumpApplication, id?: string | PipelineOptions, options: PipelineOptions = {}) {
    const opts = typeof id === "object" ? id : { ...options, id: id ?? options.id };
    this.app = app;
    this.id = opts.id ?? new.target.name;
    if (this.id.includes(".")) throw new PipelineBuildError(`Pipeline id '${this.id}' must not contain '.' (it separates addresses)`);
    this.config = Config.forClass(new.target, `pipeline:${this.id}`, opts.config, app.config);
    this.log = app.log.child({ pipeline: this.id }, "bspump.pipeline", (record) => {
      if (this.recentLog.push(record) > RECENT_LOG_SIZE) this.recentLog.shift();
    });
    this.pubsub = new PubSub(this.log);
    this.#futuresLimit = this.config.getInt("async_concurrency_limit", this.config.getInt("async_concurency_limit", 1000));
    this.#host = {
      metrics: this.metrics,
      chain: (depth) => this.#depths[depth] ?? [],
      loops: (depth) => (this.#loops[depth] ??= chainLoops([], depth, this.#spawnTo)),
      sample: () => this.#batches++ % PROFILE_EVERY === 0,
      failed: (component, context, event, error) => this.#failed(component, context, event, error),
      notConsumed: (depth, contexts, count) => this.#notConsumed(depth, contexts, count),
      whenCleared: () => {
        if (this.#state === "stopping") return Promise.resolve(false);
        if (this.#error === undefined) return Promise.resolve(true);
        return (this.#clearedWait ??= waiter()).promise;
      },
    };
  }

  // ---- construction -------------------------------------------------------------------------

  /** Sets the source(s) and appends the processors; the chain is type-checked from the source on. */
  build<Out, const Ps extends readonly AnyProcessor[]>(
    source: Source<Out> | readonly Source<Out>[],
    ...processors: Ps & Chain<NoInfer<Out>, Ps>
  ): this {
    this.setSource(source);
    for (const processor of processors) this.appendProcessor(processor);
    return this;
  }

  /** Adds a source, or several; all feed depth 0. */
  setSource(source: Source<unknown> | readonly Source<unknown>[]): void {
    for (const s of Array.isArray(source) ? source : [source]) {
      if (s.pipeline !== this) throw new PipelineBuildError(`Source '${s.id}' belongs to pipeline '${s.pipeline.id}', not '${this.id}'`);
      if (this.sources.some((other) => other.id === s.id)) throw new PipelineBuildError(`Pipeline '${this.id}' already has a source '${s.id}'`);
      this.sources.push(s);
    }
  }

  appendProcessor(processor: AnyProcessor): void {
    this.#check(processor);
    const last = this.#processors.at(-1);
    if (last !== undefined && last.kind === KIND_SINK) {
      throw new PipelineBuildError(`Pipeline '${this.id}': cannot add '${processor.id}' after the sink '${last.id}'`);
    }
    this.#setProcessors([...this.#processors, processor]);
  }

  /** Inserts before the processor `id`; false when there is none. */
  insertBefore(id: string, processor: AnyProcessor): boolean {
    return this.#insert(id, processor, 0);
  }

  /** Inserts after the processor `id`; false when there is none. */
  insertAfter(id: string, processor: AnyProcessor): boolean {
    return this.#insert(id, processor, 1);
  }

  removeProcessor(id: string): void {
    const index = this.#processors.findIndex((p) => p.id === id);
    if (index < 0) throw new NotFoundError("Processor", id, `in pipeline '${this.id}'`);
    this.#setProcessors(this.#processors.filter((_, i) => i !== index));
  }

  /** The processors by depth: a generator ends a depth, the processors after it form the next. */
  iterProcessors(): IterableIterator<readonly ProcessorBase[]> {
    return this.#depths.values();
  }

  locateSource(id: string): Source | undefined {
    return this.sources.find((s) => s.id === id);
  }

  locateProcessor(id: string): ProcessorBase | undefined {
    return this.#processors.find((p) => p.id === id);
  }

  locateConnection(id: string | Connection): Connection {
    return this.app.pumpService.locateConnection(id);
  }

  #insert(id: string, processor: AnyProcessor, offset: 0 | 1): boolean {
    const index = this.#processors.findIndex((p) => p.id === id);
    if (index < 0) return false;
    this.#check(processor);
    const next = [...this.#processors];
    next.splice(index + offset, 0, processor);
    const sink = next.findIndex((p) => p.kind === KIND_SINK);
    if (sink >= 0 && sink < next.length - 1) {
      throw new PipelineBuildError(`Pipeline '${this.id}': cannot add '${processor.id}' after the sink '${next[sink]!.id}'`);
    }
    this.#setProcessors(next);
    return true;
  }

  #check(processor: ProcessorBase): void {
    if (processor.pipeline !== this) {
      throw new PipelineBuildError(`Processor '${processor.id}' belongs to pipeline '${processor.pipeline.id}', not '${this.id}'`);
    }
    if (this.#processors.some((p) => p.id === processor.id)) {
      throw new PipelineBuildError(`Pipeline '${this.id}' already has a processor '${processor.id}': give the second one its own id`);
    }
  }

  #setProcessors(processors: ProcessorBase[]): void {
    const depths: ProcessorBase[][] = [[]];
    for (const p of processors) {
      depths.at(-1)!.push(p);
      if (p.kind === KIND_GENERATOR) {
        (p as Generator).pipelineDepth = depths.length - 1;
        depths.push([]);
      }
    }
    this.#processors = processors;
    this.#depths = depths;
    this.#loops = depths.map((chain, depth) => chainLoops(chain, depth, this.#spawnTo));
  }

  // ---- event flow ---------------------------------------------------------------------------

  /** Processes one event from a source; waits while the pipeline is not ready. The context is copied. */
  async process(event: unknown, context?: Context): Promise<void> {
    if (!this.#isReady || performance.now() - this.#lastYield >= CHILLOUT_MS) await this.ready();
    this.metrics.in++;
    const pending = new Batch(this.#host, 0, [event], [context === undefined ? {} : { ...context }]).run();
    if (pending !== undefined) await pending;
  }

  /**
   * Processes a batch with one await; waits first while the pipeline is not ready. `contexts[i]`
   * belongs to `events[i]` and is used as it is (the source makes one per event). It rejects only
   * before it has taken the batch (the pipeline is stopping, or the arguments are wrong): once taken,
   * every event is settled by the pipeline, whatever happens to it.
   */
  async processBatch(events: readonly unknown[], contexts?: readonly Context[]): Promise<void> {
    const n = events.length;
    if (contexts !== undefined && contexts.length !== n) {
      throw new RangeError(`processBatch: ${n} events but ${contexts.length} contexts`);
    }
    if (!this.#isReady || performance.now() - this.#lastYield >= CHILLOUT_MS) await this.ready();
    if (n === 0) return;
    this.metrics.in += n;
    // the events are copied (a source may reuse its array); the contexts are the pipeline's already
    const pending = new Batch(this.#host, 0, events.slice(), contexts).run();
    if (pending !== undefined) await pending;
  }

  /**
   * Sends an event through the processors of `depth` (what a generator does with each event it
   * makes). The context is copied, keeping the source's delivery, which now waits for this event too.
   */
  inject(context: Context | undefined, event: unknown, depth: number): void {
    const copy: Context = context === undefined ? {} : { ...context };
    copy[DELIVERY]?.hold();
    const pending = new Batch(this.#host, depth, [event], [copy]).run();
    if (pending !== undefined) this.ensureFuture(pending);
  }

  #spawn(generator: Generator, context: Context, event: unknown, depth: number): void {
    let result: void | Promise<void>;
    try {
      result = generator.generate(context, event, depth);
    } catch (error) {
      this.#generatorFailed(generator, context, event, error);
      return;
    }
    if (!(result instanceof Promise)) {
      context[DELIVERY]?.done();
      return;
    }
    this.ensureFuture(
      result.then(
        () => context[DELIVERY]?.done(),
        (error: unknown) => this.#generatorFailed(generator, context, event, error),
      ),
    );
  }

  #generatorFailed(generator: Generator, context: Context, event: unknown, error: unknown): void {
    this.metrics.drop++;
    this.#failed(generator, context, event, error);
  }

  /**
   * A component failed on an event, outside the synchronous chain (a buffering sink whose server
   * refused it, say): the error goes through `setError` (soft, error route or hard) and the event's
   * delivery is settled to match — done when dropped or routed, failed when hard. True when hard.
   */
  failEvent(context: Context, event: unknown, error: unknown, component?: { readonly id: string }): boolean {
    return this.#failed(component, context, event, error);
  }

  /** A component failed on an event: soft errors drop it and go on, hard ones stop the pipeline. True when hard. */
  #failed(component: { readonly id: string } | undefined, context: Context, event: unknown, error: unknown): boolean {
    const hard = this.setError(context, event, error, component);
    const delivery = context[DELIVERY];
    if (delivery !== undefined) {
      if (hard) delivery.fail(error);
      else delivery.done();
    }
    return hard;
  }

  #notConsumed(depth: number, contexts: readonly Context[], count: number): void {
    const error = new NotConsumedError(this.id, this.#depths[depth]?.at(-1)?.id);
    this.metrics.drop += count;
    const hard = this.setError(contexts[0], undefined, error);
    for (let i = 0; i < count; i++) {
      const delivery = contexts[i]![DELIVERY];
      if (delivery === undefined) continue;
      if (hard) delivery.fail(error);
      else delivery.done();
    }
  }

  // ---- readiness and throttling -------------------------------------------------------------

  /**
   * Resolves when the pipeline may take events: no error and no throttle. Sources await it before
   * producing. It rejects with StoppedError once the pipeline is stopping. While ready, it now and
   * then resolves on the next turn of the event loop so a busy source cannot starve timers and I/O.
   */
  ready(): Promise<void> {
    if (this.#state === "stopping") return Promise.reject(new StoppedError(`Pipeline '${this.id}'`));
    if (this.#isReady) {
      const now = performance.now();
      if (now - this.#lastYield < CHILLOUT_MS) return RESOLVED;
      this.#lastYield = now;
      return new Promise((resolve) => setImmediate(resolve));
    }
    return (this.#readyWait ??= waiter()).promise;
  }

  isReady(): boolean {
    return this.#isReady;
  }

  /**
   * Holds the pipeline (`on`) or releases it, on behalf of `who` (a sink with a full buffer, a queue,
   * the futures limit...). Linked pipelines feeding this one are held too.
   */
  throttle(who: unknown, on = true): void {
    if (on) this.#throttles.add(who);
    else this.#throttles.delete(who);
    for (const ancestor of this.#ancestors) ancestor.throttle(who, on);
    this.#evaluateReady();
  }

  /** Who holds the pipeline now. */
  getThrottles(): ReadonlySet<unknown> {
    return this.#throttles;
  }

  /** Makes `ancestor` (a pipeline feeding this one) wait whenever this one is throttled. */
  link(ancestor: Pipeline): void {
    if (ancestor === this || ancestor.#feedsFrom(this)) {
      throw new PipelineBuildError(`Linking '${ancestor.id}' as an ancestor of '${this.id}' would make a cycle`);
    }
    this.#ancestors.add(ancestor);
    for (const who of this.#throttles) ancestor.throttle(who, true);
  }

  unlink(ancestor: Pipeline): void {
    if (!this.#ancestors.delete(ancestor)) return;
    for (const who of this.#throttles) ancestor.throttle(who, false);
  }

  /** The pipelines feeding this one: linked ancestors and pipelines routing into its sources. */
  upstream(): Set<Pipeline> {
    const feeding = new Set(this.#ancestors);
    for (const source of this.sources) for (const feeder of source.feeders) if (feeder !== this) feeding.add(feeder);
    return feeding;
  }

  /** True when `pipeline` is an ancestor of this one, directly or not. */
  #feedsFrom(pipeline: Pipeline): boolean {
    for (const ancestor of this.#ancestors) if (ancestor === pipeline || ancestor.#feedsFrom(pipeline)) return true;
    return false;
  }

  #evaluateReady(): void {
    const ready = this.#state === "running" && this.#error === undefined && this.#throttles.size === 0;
    if (ready === this.#isReady) return;
    this.#isReady = ready;
    this.metrics.ready(ready);
    if (ready) {
      const wait = this.#readyWait;
      this.#readyWait = undefined;
      wait?.resolve();
      this.pubsub.publish("bspump.pipeline.ready!", this);
    } else {
      this.pubsub.publish("bspump.pipeline.not_ready!", this);
    }
  }

  // ---- errors -------------------------------------------------------------------------------

  /**
   * Records a failure. With no error it clears the pipeline's error instead (BSPump's
   * `set_error(None, None, None)`). `handleError` decides: true is a soft error (counted as a
   * warning, the event dropped, processing goes on), false a hard one (the pipeline stops being
   * ready until the error is cleared). Returns true for a hard error.
   */
  setError(context: Context | undefined, event: unknown, error: unknown, component?: { readonly id: string }): boolean {
    if (error === undefined || error === null) {
      this.clearError();
      return false;
    }
    const componentId = component?.id;
    if (this.handleError(error, context, event)) {
      this.metrics.warning++;
      this.#logRepeated(componentId, error, "Event dropped by a soft error");
      this.pubsub.publish("bspump.pipeline.warning!", this);
      return false;
    }
    if (context !== undefined && this.#errorRoute !== undefined && this.#routeError(context, event, error, componentId)) return false;
    this.metrics.error++;
    if (this.#error !== undefined) {
      this.#logRepeated(componentId, error, "Another error while the pipeline is already in error");
      return true;
    }
    this.#error = { error, context, event, componentId, at: this.app.time() };
    this.log.error("Pipeline stopped by an error", { component: componentId, error });
    this.pubsub.publish("bspump.pipeline.error!", this);
    this.#evaluateReady();
    return true;
  }

  /**
   * Beyond BSPump: instead of stopping on a hard error, send the failed event to an error
   * destination and go on — another pipeline's source by address ("Errors.*InternalSource") or a
   * sink of this pipeline's own (not in the chain). Its context is a copy with `error`,
   * `error_component` and `error_pipeline` added; its delivery now waits for the destination.
   * `undefined` turns it off (the default: BSPump's behaviour).
   */
  setErrorRoute(destination: string | AnySink | undefined): void {
    if (destination !== undefined && typeof destination !== "string") {
      if (destination.pipeline !== this) throw new PipelineBuildError(`Error sink '${destination.id}' belongs to pipeline '${destination.pipeline.id}', not '${this.id}'`);
      if (this.#processors.includes(destination)) throw new PipelineBuildError(`Error sink '${destination.id}' must not be in the chain of '${this.id}'`);
    }
    if (typeof this.#errorRoute === "string") this.#router?.unlocate(this.#errorRoute);
    this.#errorRoute = destination;
    if (typeof destination === "string" && this.#state === "running") (this.#router ??= new Router(this)).locate(destination);
  }

  /** Sends a failed event to the error destination; false when that failed too (the error is then hard). */
  #routeError(context: Context, event: unknown, error: unknown, componentId: string | undefined): boolean {
    const routed: Context = { ...context, error, error_component: componentId, error_pipeline: this.id };
    const destination = this.#errorRoute!;
    try {
      if (typeof destination === "string") {
        (this.#router ??= new Router(this)).route(routed, event, destination, false);
      } else {
        routed[DELIVERY]?.hold();
        const result = destination.process(routed, event);
        if (result instanceof Promise) this.ensureFuture(result.then(() => settleSinkShare(destination, routed)));
        else settleSinkShare(destination, routed);
      }
    } catch (routeError) {
      this.log.error("Error route failed", { component: componentId, error: routeError, routing: typeof destination === "string" ? destination : destination.id });
      return false;
    }
    this.metrics.routedErrors++;
    this.#logRepeated(componentId, error, "Failed event sent to the error route");
    return true;
  }

  /** Override to make some errors soft: return true to drop the event and go on. */
  handleError(_error: unknown, _context: Context | undefined, _event: unknown): boolean {
    return false;
  }

  isError(): boolean {
    return this.#error !== undefined;
  }

  /** The hard error the pipeline is stopped by, if any. */
  get error(): PipelineErrorState | undefined {
    return this.#error;
  }

  /** Clears a hard error: waiting batches go on, sources whose `main()` ended start again. */
  clearError(): void {
    if (this.#error === undefined) return;
    this.#error = undefined;
    this.log.notice("Pipeline error cleared");
    const cleared = this.#clearedWait;
    this.#clearedWait = undefined;
    cleared?.resolve(true);
    if (this.#state === "running") for (const source of this.sources) source.restart();
    this.pubsub.publish("bspump.pipeline.clear_error!", this);
    this.#evaluateReady();
  }

  /** Errors that can come once per event: log the first, then at most one line per interval and component with a count. */
  #logRepeated(componentId: string | undefined, error: unknown, message: string): void {
    const key = `${message}\u0000${componentId ?? ""}`;
    const now = performance.now();
    const seen = this.#repeatedLogs.get(key);
    if (seen !== undefined && now - seen.loggedAt < SOFT_ERROR_LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.#repeatedLogs.set(key, { loggedAt: now, suppressed: 0 });
    this.log.warn(message, { component: componentId, error, ...(suppressed > 0 ? { alsoSince: suppressed } : {}) });
  }

  // ---- futures ------------------------------------------------------------------------------

  /**
   * Tracks asynchronous work of the pipeline (generators use it): `stop()` waits for it, and while
   * `async_concurrency_limit` futures are pending the pipeline is throttled. A rejection is a pipeline error.
   */
  ensureFuture<T>(work: Promise<T>): Promise<T> {
    const futures = this.#futures;
    futures.add(work);
    if (futures.size >= this.#futuresLimit) this.throttle(FUTURES_THROTTLER, true);
    const settled = (): void => {
      futures.delete(work);
      if (futures.size < this.#futuresLimit && this.#throttles.has(FUTURES_THROTTLER)) this.throttle(FUTURES_THROTTLER, false);
    };
    work.then(settled, (error: unknown) => {
      settled();
      this.setError(undefined, undefined, error);
    });
    return work;
  }

  /** Futures not yet settled. */
  get futures(): number {
    return this.#futures.size;
  }

  /** Resolves once no future is pending (including futures started while waiting). */
  async drainFutures(): Promise<void> {
    while (this.#futures.size > 0) await Promise.allSettled(this.#futures);
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  get running(): boolean {
    return this.#state === "running";
  }

  /** Starts the processors' hooks, then the sources; the pipeline becomes ready unless throttled or in error. */
  async start(): Promise<void> {
    if (this.#state !== "idle") return;
    this.pubsub.publish("bspump.pipeline.start!", this);
    for (const processor of this.#processors) await processor.start();
    if (typeof this.#errorRoute === "object") await this.#errorRoute.start();
    if (typeof this.#errorRoute === "string") (this.#router ??= new Router(this)).locate(this.#errorRoute);
    this.#state = "running";
    for (const source of this.sources) source.start();
    this.#evaluateReady();
  }

  /**
   * Orderly stop: sources hand over what they already accepted (`drain()`), then stop (a batch in
   * flight finishes; one waiting on an error is failed back to its source), generators' futures
   * drain, then processors' `stop()` run in chain order, so a buffering sink flushes what it holds,
   * and last sources `finish()` (acknowledging what was settled on the way).
   */
  async stop(): Promise<void> {
    if (this.#state !== "running") return;
    this.pubsub.publish("bspump.pipeline.stop!", this);
    await Promise.all(this.sources.map((source) => source.drain()));
    this.#state = "stopping";
    this.#evaluateReady();
    const ready = this.#readyWait;
    this.#readyWait = undefined;
    ready?.reject(new StoppedError(`Pipeline '${this.id}'`));
    const cleared = this.#clearedWait;
    this.#clearedWait = undefined;
    cleared?.resolve(false);
    await Promise.all(this.sources.map((source) => source.stop()));
    await this.drainFutures();
    const stopping = typeof this.#errorRoute === "object" ? [...this.#processors, this.#errorRoute] : this.#processors;
    for (const processor of stopping) {
      try {
        await processor.stop();
      } catch (error) {
        this.log.error("Processor failed to stop", { component: processor.id, error });
      }
    }
    await Promise.all(
      this.sources.map((source) =>
        source.finish().catch((error: unknown) => this.log.error("Source failed to finish", { component: source.id, error })),
      ),
    );
    this.#state = "idle";
    this.pubsub.publish("bspump.pipeline.stopped!", this);
  }

  // ---- views --------------------------------------------------------------------------------

  metricsSnapshot(): PipelineMetricsSnapshot {
    return this.metrics.snapshot(this.#processors.map((p) => [p.id, p.profile] as [string, typeof p.profile]));
  }

  locateAddress(): string {
    return this.id;
  }

  restGet(): Record<string, unknown> {
    const view: Record<string, unknown> = {
      Id: this.id,
      Class: this.constructor.name,
      Ready: this.#isReady,
      Throttles: [...this.#throttles].map(nameOf),
      Sources: this.sources.map((s) => s.restGet()),
      Processors: this.#depths.map((depth) => depth.map((p) => p.restGet())),
      Metrics: this.metricsSnapshot(),
      Log: this.recentLog.map((r) => ({ time: new Date(r.time).toISOString(), level: r.level, message: r.message })),
    };
    if (this.#error !== undefined) {
      view.Error = String(this.#error.error instanceof Error ? this.#error.error.message : this.#error.error);
      view.ErrorComponent = this.#error.componentId;
      view.ErrorTimestamp = this.#error.at;
    }
    return view;
  }
}


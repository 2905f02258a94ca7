import { setTimeout as delay } from "node:timers/promises";
import { PumpApplication } from "../../application/application.js";
import type { Source } from "../../component/source.js";
import { Sink } from "../../component/sink.js";
import type { Context } from "../../context.js";
import { deliveryOf } from "../../delivery/delivery.js";
import { StoppedError } from "../../errors.js";
import { Pipeline } from "../../pipeline/pipeline.js";
import { applicable, caseTools, range, type ConformanceCase, type NotApplicable } from "./case.js";

/** The server side of one case: a fresh place on the server (a queue, a topic and group) shared by the case's runs. */
export interface SourceTarget<E = unknown> {
  /** Builds the source under test into `pipeline` (a run of its own: called again after a restart). */
  create(app: PumpApplication, pipeline: Pipeline): Source<E>;
  /** Puts events `from` … `from + count - 1` on the server (through a client of the test's own). */
  produce(from: number, count: number): Promise<void>;
  /** The number `produce()` gave the event. */
  idOf(event: E): number;
  /**
   * True once the server holds none of the events produced so far (a queue emptied, a folder's files
   * deleted). For sources that acknowledge a unit bigger than an event (a file): the case about
   * acknowledgements waits for it before stopping a run whose events all settled.
   */
  drained?(): Promise<boolean>;
  /** Drops the source's connections to the server (e.g. `TcpProxy.cut()`); new ones succeed. Not needed when `reconnects` is not applicable. */
  drop?(): Promise<void>;
  /** Removes what `setUp()` made. */
  tearDown(): Promise<void>;
}

/** The parts of a source's contract, one case each. */
export type SourceContract = "delivers" | "acknowledges" | "throttled" | "stops" | "reconnects";

export interface SourceSubject<E = unknown> {
  /** Names the cases: "<name>: <contract>". */
  readonly name: string;
  /** Parts of the contract that cannot hold for this source, with the reason: `reconnects` for a source with no connection (files), `acknowledges` for one whose sender expects no acknowledgement (a TCP stream). */
  readonly notApplicable?: NotApplicable<SourceContract>;
  /** Called once per case. */
  setUp(): Promise<SourceTarget<E>>;
  /** The cases' give-up guard for what must happen; 60 s by default. */
  readonly giveUpMs?: number;
  /** How long "nothing arrives" is watched; 1.5 s by default. */
  readonly quietMs?: number;
}

/** Records what reaches it; settles each event at once, or holds it until the pipeline stops (then fails it: not delivered). */
class Recorder extends Sink {
  override readonly confirmsDelivery = true;
  readonly ids: number[] = [];
  settles = true;
  readonly #held: Context[] = [];
  readonly #idOf: (event: unknown) => number;

  constructor(app: PumpApplication, pipeline: Pipeline, idOf: (event: unknown) => number) {
    super(app, pipeline);
    this.#idOf = idOf;
  }

  process(context: Context, event: unknown): void {
    this.ids.push(this.#idOf(event));
    if (this.settles) deliveryOf(context)?.done();
    else this.#held.push(context);
  }

  override stop(): void {
    for (const context of this.#held.splice(0)) deliveryOf(context)?.fail(new StoppedError("the conformance run"));
  }

  distinct(): Set<number> {
    return new Set(this.ids);
  }
}

/** One run of the source under test: its own application and pipeline, source → Recorder. */
class Run<E> {
  readonly app = new PumpApplication({ args: [] });
  readonly pipeline = new Pipeline(this.app, "ConformancePipeline");
  readonly sink: Recorder;
  #running = false;

  constructor(target: SourceTarget<E>, settles: boolean) {
    const source = target.create(this.app, this.pipeline);
    this.sink = new Recorder(this.app, this.pipeline, target.idOf as (event: unknown) => number);
    this.sink.settles = settles;
    this.pipeline.build(source, this.sink);
    this.app.pumpService.addPipeline(this.pipeline);
  }

  async start(): Promise<this> {
    await this.app.pumpService.initialize();
    this.#running = true;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.app.pumpService.finalize();
  }
}

/**
 * The contract every source of a server keeps, as test cases against that server: it delivers what
 * the server holds, acknowledges (commits) an event only once it settled — so a restart brings back
 * exactly the unsettled ones —, waits while its pipeline is throttled, stops cleanly, and recovers
 * from a dropped connection.
 *
 * ```ts
 * for (const c of sourceConformance(subject)) it(c.name, c.run);
 * ```
 */
export function sourceConformance<E>(subject: SourceSubject<E>): ConformanceCase<SourceContract>[] {
  const quietMs = subject.quietMs ?? 1_500;
  const { breach, wait } = caseTools(subject.name, subject.giveUpMs);
  const receivedAll = (run: Run<E>, ids: number[]): (() => boolean) => {
    return () => {
      const got = run.sink.distinct();
      return ids.every((id) => got.has(id));
    };
  };

  async function withTarget(body: (target: SourceTarget<E>, runs: Run<E>[]) => Promise<void>): Promise<void> {
    const target = await subject.setUp();
    const runs: Run<E>[] = [];
    try {
      await body(target, runs);
    } finally {
      for (const run of runs) await run.stop().catch(() => {});
      await target.tearDown();
    }
  }

  const start = async (target: SourceTarget<E>, runs: Run<E>[], settles = true): Promise<Run<E>> => {
    const run = new Run(target, settles);
    runs.push(run);
    return run.start();
  };

  const cases: ConformanceCase<SourceContract>[] = [
    {
      contract: "delivers",
      name: `${subject.name}: delivers every event the server holds`,
      run: () =>
        withTarget(async (target, runs) => {
          await target.produce(0, 100);
          const run = await start(target, runs);
          await wait(receivedAll(run, range(0, 100)), `the 100 events produced (${run.sink.distinct().size} so far)`);
        }),
    },
    {
      contract: "acknowledges",
      name: `${subject.name}: acknowledges only settled events — a restart brings back the unsettled ones, not the settled`,
      run: () =>
        withTarget(async (target, runs) => {
          const n = 30;
          await target.produce(0, n);
          const holding = await start(target, runs, false);
          await wait(receivedAll(holding, range(0, n)), `the ${n} events in the first run`);
          await holding.stop();
          const second = await start(target, runs);
          await wait(receivedAll(second, range(0, n)), `the ${n} unsettled events again after a restart (${second.sink.distinct().size} so far): events acknowledged before they settled are lost`);
          const drained = target.drained?.bind(target);
          if (drained !== undefined) await wait(drained, "the server to let go of the settled events");
          await second.stop();
          const third = await start(target, runs);
          await target.produce(n, 1);
          await wait(receivedAll(third, [n]), "an event produced after the second run");
          const again = third.sink.ids.filter((id) => id < n);
          if (again.length > 0) throw breach(`${again.length} events settled in the previous run came again: settled events were not acknowledged`);
        }),
    },
    {
      contract: "throttled",
      name: `${subject.name}: waits while its pipeline is throttled`,
      run: () =>
        withTarget(async (target, runs) => {
          const run = new Run(target, true);
          runs.push(run);
          const kit = {};
          run.pipeline.throttle(kit, true);
          await run.start();
          await target.produce(0, 20);
          await delay(quietMs);
          if (run.sink.ids.length > 0) throw breach(`${run.sink.ids.length} events reached the sink while the pipeline was throttled`);
          run.pipeline.throttle(kit, false);
          await wait(receivedAll(run, range(0, 20)), "the events once the pipeline was released");
        }),
    },
    {
      contract: "stops",
      name: `${subject.name}: stops cleanly, and takes nothing after`,
      run: () =>
        withTarget(async (target, runs) => {
          const run = await start(target, runs);
          await target.produce(0, 10);
          await wait(receivedAll(run, range(0, 10)), "the 10 events produced");
          await run.stop();
          const before = run.sink.ids.length;
          await target.produce(10, 5);
          await delay(quietMs);
          if (run.sink.ids.length !== before) throw breach(`${run.sink.ids.length - before} events arrived after the source stopped`);
        }),
    },
    {
      contract: "reconnects",
      name: `${subject.name}: recovers from a dropped connection`,
      run: () =>
        withTarget(async (target, runs) => {
          const run = await start(target, runs);
          await target.produce(0, 10);
          await wait(receivedAll(run, range(0, 10)), "the 10 events produced before the connection dropped");
          const drop = target.drop?.bind(target);
          if (drop === undefined) throw breach("the subject gives no drop() (declare `reconnects` not applicable, with the reason, if the source has no connection)");
          await drop();
          await target.produce(10, 10);
          await wait(receivedAll(run, range(10, 10)), `the events produced after the connection dropped (${run.sink.distinct().size} of 20 so far)`);
        }),
    },
  ];
  return applicable(cases, subject.notApplicable);
}

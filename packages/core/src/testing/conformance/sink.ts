import { setTimeout as delay } from "node:timers/promises";
import { PumpApplication } from "../../application/application.js";
import type { Sink } from "../../component/sink.js";
import type { Context } from "../../context.js";
import { DELIVERY, Delivery } from "../../delivery/delivery.js";
import { Pipeline } from "../../pipeline/pipeline.js";
import { UnitTestSource } from "../unit-test-source.js";
import { applicable, caseTools, range, type ConformanceCase, type NotApplicable } from "./case.js";

/** The server side of one case: a fresh place on the server (a table, a queue, an index) and how to reach and observe it. */
export interface SinkTarget<E = unknown> {
  /** Builds the sink under test into `pipeline`, adding the connections it needs to `app.pumpService`. */
  create(app: PumpApplication, pipeline: Pipeline): Sink<E>;
  /** The i-th event; distinct for every i. */
  event(i: number): E;
  /** An event the server refuses for good (a constraint, a type conflict); not needed when `refusal` is not applicable. */
  rejected?(i: number): E;
  /** How many events the server holds now, read from the server (not from the sink). */
  stored(): Promise<number>;
  /** Makes the server unreachable for the sink (`TcpProxy.outage()`); resolves to what ends the outage. Not needed when `outage` and `throttle` are not applicable. */
  outage?(): Promise<() => Promise<void>>;
  /** Removes what `setUp()` made. */
  tearDown(): Promise<void>;
}

/** The parts of a sink's contract, one case each. */
export type SinkContract = "settles" | "outage" | "throttle" | "flush" | "refusal";

export interface SinkSubject<E = unknown> {
  /** Names the cases: "<name>: <contract>". */
  readonly name: string;
  /** Events that surely fill the sink's buffer (its high watermark and a batch more). */
  readonly capacity: number;
  /** Parts of the contract that cannot hold for this sink, with the reason: `refusal` for a server that refuses no event (a broker takes any body). */
  readonly notApplicable?: NotApplicable<SinkContract>;
  /** Called once per case: a fresh place on the server. */
  setUp(): Promise<SinkTarget<E>>;
  /** How long the sink may take to confirm what it was given, at most (the cases' give-up guard); 60 s by default. */
  readonly giveUpMs?: number;
  /** How long "no event settled during an outage" is watched; 1.5 s by default. */
  readonly outageMs?: number;
}

/** One case's pipeline: a source the case feeds by hand → the sink under test; each event with a tracked delivery. */
class Bench<E> {
  readonly app = new PumpApplication({ args: [] });
  readonly pipeline = new Pipeline(this.app, "ConformancePipeline");
  readonly source = new UnitTestSource<E>(this.app, this.pipeline);
  readonly sink: Sink<E>;
  readonly done = new Set<number>();
  readonly failed = new Map<number, unknown>();
  /** Events the source handed to the pipeline. */
  fed = 0;
  #started = false;

  readonly target: SinkTarget<E>;

  constructor(target: SinkTarget<E>) {
    this.target = target;
    this.sink = target.create(this.app, this.pipeline);
    this.pipeline.build(this.source, this.sink);
    this.app.pumpService.addPipeline(this.pipeline);
  }

  get settled(): number {
    return this.done.size + this.failed.size;
  }

  async start(): Promise<void> {
    await this.app.pumpService.initialize();
    this.#started = true;
  }

  /** Hands events `ids` to the pipeline in batches of 100 (each waits while the pipeline is throttled). */
  async feed(ids: number[], make: (i: number) => E = (i) => this.target.event(i)): Promise<void> {
    for (let k = 0; k < ids.length; k += 100) {
      const chunk = ids.slice(k, k + 100);
      await this.source.processBatch(
        chunk.map(make),
        chunk.map((i) => this.#track(i)),
      );
      this.fed += chunk.length;
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.app.pumpService.finalize();
  }

  #track(i: number): Context {
    const onSettle = (_: Delivery<number>, error: unknown): void => {
      if (error === undefined) this.done.add(i);
      else this.failed.set(i, error);
    };
    return { [DELIVERY]: new Delivery<number>(onSettle, i) };
  }
}

/**
 * The contract every sink of a server keeps, as test cases against that server: it settles an event
 * only once the server confirmed it, retries while the server is unreachable, throttles the pipeline
 * while its buffer is full and releases it after, writes everything it holds on stop, and reports an
 * event the server refuses through the pipeline's error handling without losing the good ones.
 *
 * ```ts
 * for (const c of sinkConformance(subject)) it(c.name, c.run);
 * ```
 */
export function sinkConformance<E>(subject: SinkSubject<E>): ConformanceCase<SinkContract>[] {
  const outageMs = subject.outageMs ?? 1_500;
  const { breach, wait } = caseTools(subject.name, subject.giveUpMs);

  async function withBench(body: (bench: Bench<E>) => Promise<void>): Promise<void> {
    const target = await subject.setUp();
    const bench = new Bench(target);
    try {
      await bench.start();
      await body(bench);
    } finally {
      await bench.stop().catch(() => {});
      await target.tearDown();
    }
  }

  async function expectStored(bench: Bench<E>, count: number): Promise<void> {
    const failures = [...bench.failed.values()];
    if (failures.length > 0) throw breach(`${failures.length} deliveries failed, e.g. ${String(failures[0])}`);
    const stored = await bench.target.stored();
    if (stored < count) throw breach(`settled ${bench.done.size} events but the server holds ${stored} of them: events settled before the server had them`);
    if (stored > count) throw breach(`the server holds ${stored} events, ${count} were given`);
  }

  const outage = (bench: Bench<E>): Promise<() => Promise<void>> => {
    const start = bench.target.outage?.bind(bench.target);
    if (start === undefined) throw breach("the subject gives no outage() (declare `outage` and `throttle` not applicable, with the reason, if the sink has no server to lose)");
    return start();
  };

  const cases: ConformanceCase<SinkContract>[] = [
    {
      contract: "settles",
      name: `${subject.name}: settles each event once the server stored it`,
      run: () =>
        withBench(async (bench) => {
          const n = 250;
          await bench.feed(range(0, n));
          await wait(() => bench.settled === n, `${n} deliveries to settle (${bench.settled} so far)`);
          await expectStored(bench, n);
        }),
    },
    {
      contract: "outage",
      name: `${subject.name}: settles nothing while the server is unreachable, retries, and stores everything once it is back`,
      run: () =>
        withBench(async (bench) => {
          const n = 50;
          const end = await outage(bench);
          let ended = false;
          // not awaited: a sink may rightly throttle the pipeline while its server is away
          const feeding = bench.feed(range(0, n));
          try {
            await delay(outageMs);
            if (bench.done.size > 0) throw breach(`${bench.done.size} events settled while the server was unreachable`);
            if (bench.failed.size > 0) throw breach(`${bench.failed.size} deliveries failed during a short outage instead of being retried: ${String([...bench.failed.values()][0])}`);
            await end();
            ended = true;
          } finally {
            if (!ended) await end();
          }
          await feeding;
          await wait(() => bench.settled === n, `${n} deliveries to settle after the outage (${bench.settled} so far)`);
          await expectStored(bench, n);
        }),
    },
    {
      contract: "throttle",
      name: `${subject.name}: throttles the pipeline while its buffer is full and releases it once the server takes the events`,
      run: () =>
        withBench(async (bench) => {
          const n = subject.capacity;
          const end = await outage(bench);
          let feeding: Promise<void> | undefined;
          let ended = false;
          try {
            let fedAll = false;
            feeding = bench.feed(range(0, n)).then(() => {
              fedAll = true;
            });
            await wait(() => !bench.pipeline.isReady() || fedAll, "the pipeline to be throttled or every event to be taken");
            if (bench.pipeline.isReady()) throw breach(`took all ${n} events (its declared capacity) while the server was unreachable without throttling the pipeline`);
            await end();
            ended = true;
          } finally {
            if (!ended) await end();
          }
          await feeding;
          await wait(() => bench.pipeline.isReady(), "the pipeline to be released");
          await wait(() => bench.settled === n, `${n} deliveries to settle (${bench.settled} so far)`);
          await expectStored(bench, n);
        }),
    },
    {
      contract: "flush",
      name: `${subject.name}: writes everything it holds when the pipeline stops`,
      run: () =>
        withBench(async (bench) => {
          const n = 7;
          await bench.feed(range(0, n));
          await bench.stop();
          if (bench.settled !== n) throw breach(`${n - bench.settled} of ${n} events were neither written nor failed when the pipeline stopped`);
          await expectStored(bench, n);
        }),
    },
    {
      contract: "refusal",
      name: `${subject.name}: reports an event the server refuses through the pipeline's error handling and stores the others`,
      run: () =>
        withBench(async (bench) => {
          const bad = 5;
          const rejected = bench.target.rejected?.bind(bench.target);
          if (rejected === undefined) throw breach("the subject gives no rejected() event (declare `refusal` not applicable, with the reason, if its server refuses nothing)");
          await bench.feed(range(0, 10), (i) => (i === bad ? rejected(i) : bench.target.event(i)));
          await wait(() => bench.settled === 10, `10 deliveries to settle (${bench.settled} so far)`);
          if (!bench.failed.has(bad)) throw breach("the refused event's delivery was not failed (hard error, the default)");
          if (!bench.pipeline.isError()) throw breach("the refused event did not reach the pipeline's error handling");
          if (bench.failed.size !== 1) throw breach(`${bench.failed.size - 1} good events failed with the refused one`);
          const stored = await bench.target.stored();
          if (stored !== 9) throw breach(`the server holds ${stored} events, the 9 good ones were expected`);
        }),
    },
  ];
  return applicable(cases, subject.notApplicable);
}

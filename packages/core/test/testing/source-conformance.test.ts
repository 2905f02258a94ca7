import { describe, expect, it } from "vitest";
import type { Context } from "../../src/index.js";
import {
  MemoryQueue,
  MemoryQueueSource,
  sourceConformance,
  type ConformanceCase,
  type MemoryQueueSession,
  type SourceContract,
  type SourceSubject,
} from "../../src/testing/index.js";

/** A subject of the kit: `make` builds the source under test on a fresh memory queue per case. */
function subject(name: string, make: (...args: ConstructorParameters<typeof MemoryQueueSource<number>>) => MemoryQueueSource<number>): SourceSubject<number> {
  return {
    name,
    quietMs: 100,
    giveUpMs: 3_000,
    setUp: () => {
      const queue = new MemoryQueue<number>();
      return Promise.resolve({
        create: (app, pipeline) => make(app, pipeline, queue),
        produce: (from, count) => {
          queue.put(...Array.from({ length: count }, (_, k) => from + k));
          return Promise.resolve();
        },
        idOf: (event) => event,
        drop: () => {
          queue.drop();
          return Promise.resolve();
        },
        tearDown: () => Promise.resolve(),
      });
    },
  };
}

/** The kit's case about `contract` for `s`. */
function caseOf(s: SourceSubject<number>, contract: SourceContract): ConformanceCase {
  const found = sourceConformance(s).find((c) => c.contract === contract);
  if (found === undefined) throw new Error(`no case about ${contract}`);
  return found;
}

/** Acknowledges each message as it takes it, before its event settled. */
class EagerSource extends MemoryQueueSource<number> {
  protected override contextFor(session: MemoryQueueSession, message: number): Context {
    this.queue.ack(session, message);
    return {};
  }
}

/** Never opens a session again once its first one was dropped. */
class StubbornSource extends MemoryQueueSource<number> {
  protected override reconnect(): MemoryQueueSession {
    return this.session ?? super.reconnect();
  }
}

describe("sourceConformance on a source that keeps the contract", () => {
  for (const c of sourceConformance(subject("MemoryQueueSource", (app, pipeline, queue) => new MemoryQueueSource(app, pipeline, queue)))) it(c.name, c.run);
});

describe("sourceConformance leaves out what a subject declares not applicable", () => {
  const memory = subject("MemoryQueueSource", (app, pipeline, queue) => new MemoryQueueSource(app, pipeline, queue));

  it("runs every other case", () => {
    const cases = sourceConformance({ ...memory, notApplicable: { reconnects: "no connection", acknowledges: "the sender expects no acknowledgement" } });
    expect(cases.map((c) => c.contract)).toEqual(["delivers", "throttled", "stops"]);
  });

  it("a case that needs drop() the subject does not give is a breach saying what to declare", async () => {
    const c = caseOf(
      {
        ...memory,
        setUp: async () => {
          const { drop: _drop, ...target } = await memory.setUp();
          return target;
        },
      },
      "reconnects",
    );
    await expect(c.run()).rejects.toThrow(/MemoryQueueSource: the subject gives no drop\(\) \(declare `reconnects` not applicable/);
  });
});

describe("sourceConformance finds the breach of a source that does not", () => {
  it("acknowledging before the event settled", async () => {
    const c = caseOf(subject("EagerSource", (app, pipeline, queue) => new EagerSource(app, pipeline, queue)), "acknowledges");
    await expect(c.run()).rejects.toThrow(/EagerSource: gave up waiting: the 30 unsettled events again after a restart \(0 so far\)/);
  });

  it("not reconnecting after a dropped connection", async () => {
    const c = caseOf(subject("StubbornSource", (app, pipeline, queue) => new StubbornSource(app, pipeline, queue)), "reconnects");
    await expect(c.run()).rejects.toThrow(/StubbornSource: gave up waiting: the events produced after the connection dropped \(10 of 20 so far\)/);
  });
});

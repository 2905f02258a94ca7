import { describe, expect, it } from "vitest";
import { ConformanceBreach, deliveryOf, type Context } from "../../src/index.js";
import { MemoryServer, MemorySink, sinkConformance, type ConformanceCase, type SinkContract, type SinkSubject } from "../../src/testing/index.js";

interface Item {
  n: number;
  bad?: boolean;
}

/** A subject of the kit: `make` builds the sink under test on a fresh memory server per case. */
function subject(name: string, make: (...args: ConstructorParameters<typeof MemorySink<Item>>) => MemorySink<Item>): SinkSubject<Item> {
  return {
    name,
    capacity: 150,
    outageMs: 200,
    giveUpMs: 5_000,
    setUp: () => {
      const server = new MemoryServer<Item>();
      server.refuses = (item) => item.bad === true;
      return Promise.resolve({
        create: (app, pipeline) => make(app, pipeline, server),
        event: (n) => ({ n }),
        rejected: (n) => ({ n, bad: true }),
        stored: () => Promise.resolve(server.items.length),
        outage: () => {
          server.down = true;
          return Promise.resolve(() => {
            server.down = false;
            return Promise.resolve();
          });
        },
        tearDown: () => Promise.resolve(),
      });
    },
  };
}

/** Settles each event as it takes it, before the server has it. */
class EagerSink extends MemorySink<Item> {
  override process(context: Context, event: Item): void {
    super.process({}, event);
    deliveryOf(context)?.done();
  }
}

/** Never lets its buffer throttle the pipeline. */
class UnboundedSink extends MemorySink<Item> {
  constructor(...args: ConstructorParameters<typeof MemorySink<Item>>) {
    super(...args);
    this.limits = { ...this.limits, highEvents: Number.POSITIVE_INFINITY };
  }
}

/** Returns from stop without writing what it holds. */
class ForgetfulSink extends MemorySink<Item> {
  override async stop(): Promise<void> {}
}

/** Gives an event up (fails its delivery) on the first failed write instead of retrying. */
class ImpatientSink extends MemorySink<Item> {
  override process(context: Context, event: Item): void {
    if (this.server.down) {
      deliveryOf(context)?.fail(new Error("server down"));
      return;
    }
    super.process(context, event);
  }
}

/** The kit's case about `contract` for `s`. */
function caseOf(s: SinkSubject<Item>, contract: SinkContract): ConformanceCase {
  const found = sinkConformance(s).find((c) => c.contract === contract);
  if (found === undefined) throw new Error(`no case about ${contract}`);
  return found;
}

describe("sinkConformance on a sink that keeps the contract", () => {
  for (const c of sinkConformance(subject("MemorySink", (app, pipeline, server) => new MemorySink(app, pipeline, server)))) it(c.name, c.run);
});

describe("sinkConformance leaves out what a subject declares not applicable", () => {
  const memory = subject("MemorySink", (app, pipeline, server) => new MemorySink(app, pipeline, server));

  it("runs every other case", () => {
    const cases = sinkConformance({ ...memory, notApplicable: { refusal: "the server takes anything", outage: "no server to lose" } });
    expect(cases.map((c) => c.contract)).toEqual(["settles", "throttle", "flush"]);
  });

  it("a case that needs outage() the subject does not give is a breach saying what to declare", async () => {
    const c = caseOf(
      {
        ...memory,
        setUp: async () => {
          const { outage: _outage, ...target } = await memory.setUp();
          return target;
        },
      },
      "outage",
    );
    await expect(c.run()).rejects.toThrow(/MemorySink: the subject gives no outage\(\) \(declare `outage` and `throttle` not applicable/);
  });
});

describe("sinkConformance finds the breach of a sink that does not", () => {

  it("settling before the server stored the events", async () => {
    const c = caseOf(subject("EagerSink", (app, pipeline, server) => new EagerSink(app, pipeline, server)), "outage");
    await expect(c.run()).rejects.toThrow(/EagerSink: 50 events settled while the server was unreachable/);
  });

  it("failing deliveries on a transient outage instead of retrying", async () => {
    const c = caseOf(subject("ImpatientSink", (app, pipeline, server) => new ImpatientSink(app, pipeline, server)), "outage");
    await expect(c.run()).rejects.toThrow(/deliveries failed during a short outage instead of being retried/);
  });

  it("buffering without bound instead of throttling", async () => {
    const c = caseOf(subject("UnboundedSink", (app, pipeline, server) => new UnboundedSink(app, pipeline, server)), "throttle");
    await expect(c.run()).rejects.toThrow(/took all 150 events .* without throttling the pipeline/);
  });

  it("losing its buffer on stop", async () => {
    // a slow server, so that the sink still holds events when the pipeline stops
    const c = caseOf(
      subject("ForgetfulSink", (app, pipeline, server) => {
        server.latencyMs = 50;
        return new ForgetfulSink(app, pipeline, server);
      }),
      "flush",
    );
    await expect(c.run()).rejects.toThrow(/events were neither written nor failed when the pipeline stopped/);
  });

  it("breaches are ConformanceBreach errors with a stable code", async () => {
    const c = caseOf(subject("EagerSink", (app, pipeline, server) => new EagerSink(app, pipeline, server)), "outage");
    const error = await c.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConformanceBreach);
    expect((error as ConformanceBreach).code).toBe("PUMP_CONFORMANCE_BREACH");
  });
});

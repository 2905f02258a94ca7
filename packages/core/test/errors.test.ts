import { describe, expect, it } from "vitest";
import { Pipeline, ProcessingError, type Context } from "../src/index.js";
import { Boom, UnitTestSink, ListSource, createApp, settleLog, until } from "./helpers.js";

class SoftPipeline extends Pipeline {
  override handleError(): boolean {
    return true;
  }
}

describe("hard and soft errors", () => {
  it("a hard error stops the pipeline at the failing event; later events wait (BSPump's a, bad, c)", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const source = new ListSource<string>(app, p);
    source.events = ["a", "bad", "c"];
    source.batchSize = 1;
    const sink = new UnitTestSink<string>(app, p);
    p.build(source, new Boom(app, p), sink);
    void p.start();
    await until(() => p.isError());
    expect(sink.events).toEqual(["a"]);
    expect(p.isReady()).toBe(false);
    expect(p.metrics.counters()).toEqual({ in: 2, out: 1, drop: 1, warning: 0, error: 1, routedErrors: 0 });
    expect(p.error?.componentId).toBe("Boom");
    expect(p.error?.event).toBe("bad");
    expect(p.error?.error).toMatchObject({ message: "boom on bad" });
    await p.stop();
  });

  it("soft errors count a warning, drop the event and go on", async () => {
    const app = createApp();
    const p = new SoftPipeline(app, "P");
    const source = new ListSource<string>(app, p);
    source.events = ["a", "bad", "c"];
    const sink = new UnitTestSink<string>(app, p);
    p.build(source, new Boom(app, p), sink);
    void p.start();
    await until(() => sink.events.length === 2);
    expect(sink.events).toEqual(["a", "c"]);
    expect(p.isError()).toBe(false);
    expect(p.metrics.counters()).toEqual({ in: 3, out: 2, drop: 1, warning: 1, error: 0, routedErrors: 0 });
    await p.stop();
  });

  it("handleError sees the original error, the context and the event", async () => {
    const app = createApp();
    const seen: unknown[] = [];
    class Classify extends Pipeline {
      override handleError(error: unknown, context: Context | undefined, event: unknown): boolean {
        seen.push(error, context?.id, event);
        return error instanceof Error && error.message.startsWith("boom");
      }
    }
    const p = new Classify(app, "P");
    p.build(new ListSource(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    await p.processBatch(["bad"], [{ id: 7 }]);
    expect(seen[0]).toBeInstanceOf(Error);
    expect(seen.slice(1)).toEqual([7, "bad"]);
    expect(p.metrics.warning).toBe(1);
  });

  it("after a hard error is cleared the waiting batch goes on from the next event", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink<string>(app, p);
    p.build(new ListSource(app, p), new Boom(app, p), sink);
    await p.start();
    let done = false;
    const batch = p.processBatch(["a", "bad", "c", "d"]).then(() => (done = true));
    await until(() => p.isError());
    expect(sink.events).toEqual(["a"]); // what passed Boom went on; the rest waits inside Boom
    expect(done).toBe(false);
    p.clearError();
    await batch;
    expect(sink.events).toEqual(["a", "c", "d"]);
    expect(p.isReady()).toBe(true);
  });

  it("setError(no error) clears, like BSPump's set_error(None, None, None), and restarts finished sources", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    let runs = 0;
    class Once extends ListSource<string> {
      override async main(): Promise<void> {
        runs++;
        if (runs === 1) throw new Error("source broke");
        await super.main();
      }
    }
    const source = new Once(app, p);
    source.events = ["x"];
    const sink = new UnitTestSink<string>(app, p);
    p.build(source, sink);
    void p.start();
    await until(() => p.isError());
    expect(p.error?.componentId).toBe("Once");
    p.setError(undefined, undefined, null);
    await until(() => sink.events.length === 1);
    expect(runs).toBe(2);
    expect(p.isError()).toBe(false);
    await p.stop();
  });

  it("publishes error!, warning! and clear_error! on the pipeline's pubsub", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const messages: string[] = [];
    for (const m of ["bspump.pipeline.error!", "bspump.pipeline.warning!", "bspump.pipeline.clear_error!"]) {
      p.pubsub.subscribe(m, (message) => messages.push(message));
    }
    p.build(new ListSource(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    void p.processBatch(["bad"]);
    await until(() => p.isError());
    p.clearError();
    expect(messages).toEqual(["bspump.pipeline.error!", "bspump.pipeline.clear_error!"]);
  });

  it("logs a hard error with the pipeline, the component and the reason", async () => {
    const app = createApp();
    const p = new Pipeline(app, "Logged");
    p.build(new ListSource(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    void p.processBatch(["bad"]);
    await until(() => p.isError());
    const record = p.recentLog.find((r) => r.level === "error");
    expect(record?.fields).toMatchObject({ pipeline: "Logged", component: "Boom" });
    expect(record?.fields.error).toMatchObject({ message: "boom on bad" });
    expect(p.restGet()).toMatchObject({ Error: "boom on bad", ErrorComponent: "Boom", Ready: false });
  });

  it("stopping while a batch waits on an error fails the rest back to the source and counts it", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const log = settleLog();
    p.build(new ListSource(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    const batch = p.processBatch(["a", "bad", "c"], [log.track(0), log.track(1), log.track(2)]);
    await until(() => p.isError());
    await p.stop();
    await batch;
    expect(log.settled.map((s) => s.token).toSorted()).toEqual([0, 1, 2]);
    // "a" had passed Boom: it went on to the sink; "c" had not reached Boom and goes back as failed
    expect(log.settled.find((s) => s.token === 0)?.error).toBeUndefined();
    expect(log.settled.find((s) => s.token === 1)?.error).toMatchObject({ message: "boom on bad" });
    expect(log.settled.find((s) => s.token === 2)?.error).toMatchObject({ name: "StoppedError" });
    expect(p.metrics.drop).toBe(2);
    expect(p.metrics.out).toBe(1);
  });

  it("a generator failure is the pipeline's error, with its event", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const { Generator } = await import("../src/index.js");
    class Fails extends Generator {
      async generate(): Promise<void> {
        throw new Error("generator broke");
      }
    }
    p.build(new ListSource(app, p), new Fails(app, p), new UnitTestSink(app, p));
    await p.start();
    await p.processBatch(["e"]);
    await until(() => p.isError());
    expect(p.error?.componentId).toBe("Fails");
    expect(p.error?.event).toBe("e");
  });

  it("ProcessingError names the pipeline and the component", () => {
    const error = new ProcessingError("P", "Parser", new SyntaxError("bad json"));
    expect(error.message).toBe("Pipeline 'P', component 'Parser': bad json");
    expect(error.code).toBe("PUMP_PROCESSING");
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});

import { describe, expect, it } from "vitest";
import { deliveryOf, Pipeline } from "../../src/index.js";
import { createApp, runApp, settlements, UnitTestSink, UnitTestSource } from "../../src/testing/index.js";

describe("settlements", () => {
  it("records each delivery by token: done, or the error it failed with", () => {
    const s = settlements();
    const failure = new Error("refused");
    deliveryOf(s.context(1))!.done();
    deliveryOf(s.context(2, { kafka_key: "k" }))!.fail(failure);
    expect([...s.settled]).toEqual([
      [1, "done"],
      [2, failure],
    ]);
    expect(s.context(3, { kafka_key: "k" }).kafka_key).toBe("k");
  });

  it("throws when a token settles twice (a sink confirming an event again)", () => {
    const s = settlements();
    deliveryOf(s.context(7))!.done();
    expect(() => deliveryOf(s.context(7))!.done()).toThrow(/delivery 7 settled twice/);
  });
});

describe("UnitTestSource.feed, createApp and runApp", () => {
  it("a pump built from .conf text runs, takes fed batches with their contexts, and stops with its exit code", async () => {
    const app = createApp("[pipeline:P]\nasync_concurrency_limit=3\n");
    expect(app.config.get("pipeline:P", "async_concurrency_limit")).toBe("3");
    const pipeline = new Pipeline(app, "P");
    const source = new UnitTestSource<string>(app, pipeline);
    const sink = new UnitTestSink<string>(app, pipeline);
    pipeline.build(source, sink);
    app.pumpService.addPipeline(pipeline);
    const running = runApp(app);
    await running.started;
    const s = settlements();
    await source.feed(["a", "b"], [s.context(1), s.context(2)]);
    expect(sink.output.map(([, event]) => event)).toEqual(["a", "b"]);
    expect([...s.settled.values()]).toEqual(["done", "done"]);
    expect(await running.stop()).toBe(0);
    expect(await running.done).toBe(0);
  });
});

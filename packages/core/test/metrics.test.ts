import { describe, expect, it } from "vitest";
import { Pipeline, PipelineBuildError } from "../src/index.js";
import { PipelineMetrics } from "../src/pipeline/metrics.js";
import { Boom, UnitTestSink, ListSource, createApp } from "./helpers.js";

describe("pipeline metrics", () => {
  it("eps is the change of each counter over the last tick period", () => {
    const m = new PipelineMetrics();
    m.tick(1000);
    m.in += 500;
    m.out += 400;
    m.drop += 100;
    m.tick(3000); // two seconds later
    const snapshot = m.snapshot([], 3000);
    expect(snapshot.eps).toEqual({ in: 250, out: 200, drop: 50, warning: 0, error: 0, routedErrors: 0 });
    m.tick(4000);
    expect(m.snapshot([], 4000).eps.in).toBe(0);
  });

  it("the ready duty cycle is the share of time the pipeline was ready", () => {
    const m = new PipelineMetrics(); // not ready from construction
    const t = performance.now();
    m.ready(true, t + 1000);
    m.ready(false, t + 4000); // ready 3 s
    expect(m.snapshot([], t + 5000).readyDutyCycle).toBeCloseTo(3 / 5, 2);
  });

  it("counts warnings and errors with their ratio to events in, and profiles per processor", async () => {
    const app = createApp();
    class Soft extends Pipeline {
      override handleError(): boolean {
        return true;
      }
    }
    const p = new Soft(app, "P");
    p.build(new ListSource(app, p), new Boom(app, p), new UnitTestSink(app, p));
    await p.start();
    await p.processBatch(["a", "bad", "b", "bad"]);
    const snapshot = p.metricsSnapshot();
    expect(snapshot).toMatchObject({ in: 4, out: 2, drop: 2, warning: 2, error: 0, warningRatio: 0.5, errorRatio: 0 });
    expect(snapshot.profiler.Boom).toMatchObject({ runs: 4 });
    expect(snapshot.profiler.UnitTestSink).toMatchObject({ runs: 2 });
    expect(snapshot.readyDutyCycle).toBeGreaterThan(0);
  });

  it("the application's tick closes every pipeline's rate period", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new UnitTestSink(app, p));
    app.pumpService.addPipeline(p);
    await p.start();
    await p.processBatch([1, 2, 3]);
    expect(p.metricsSnapshot().eps.in).toBe(0);
    app.tick();
    expect(p.metricsSnapshot().eps.in).toBeGreaterThan(0);
    expect(() => new Pipeline(app, "bad.id")).toThrow(PipelineBuildError);
  });
});

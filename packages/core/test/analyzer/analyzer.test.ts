import { describe, expect, it } from "vitest";
import { ConfigError, Pipeline, Processor, type Context } from "../../src/index.js";
import { Analyzer, foldOptions } from "../../src/analyzer/index.js";
import { ProcessorTestCase } from "../../src/testing/index.js";
import { captureLogs, createApp } from "../helpers.js";

/** Counts the events it evaluates (those with a `value`) and sums them; analyze() records the sum. */
class Summing extends Analyzer<Record<string, unknown>> {
  sum = 0;
  readonly analyzed: { at: number; sum: number }[] = [];
  override predicate(_context: Context, event: Record<string, unknown>): boolean {
    return typeof event.value === "number";
  }
  override evaluate(_context: Context, event: Record<string, unknown>): void {
    this.sum += event.value as number;
  }
  override analyze(): void {
    this.analyzed.push({ at: this.time(), sum: this.sum });
  }
}

function events(output: [Context, unknown][]): unknown[] {
  return output.map(([, event]) => event);
}

describe("Analyzer (BSPump's test_analyzer vectors)", () => {
  it("passes events through unchanged", async () => {
    const t = new ProcessorTestCase();
    t.setUpProcessor(Analyzer);
    expect(events(await t.execute([[null, { attribute: "value" }]]))).toEqual([{ attribute: "value" }]);
  });

  it("passes events through unchanged when analyzing on the clock", async () => {
    const t = new ProcessorTestCase();
    t.setUpProcessor((app, p) => new Analyzer(app, p, { analyzeOnClock: true }));
    expect(events(await t.execute([[null, { attribute: "value" }]]))).toEqual([{ attribute: "value" }]);
    await t.tearDown();
  });
});

describe("Analyzer", () => {
  it("evaluates the events its predicate accepts, passes all of them on, the same objects", async () => {
    const t = new ProcessorTestCase();
    const analyzer = t.setUpProcessor(Summing) as Summing;
    const first = { value: 2 };
    const output = await t.execute([[null, first], [null, { other: 1 }], [null, { value: 3 }]]);
    expect(events(output)).toEqual([{ value: 2 }, { other: 1 }, { value: 3 }]);
    expect(output[0]![1]).toBe(first);
    expect(analyzer.sum).toBe(5);
    expect(analyzer.analyzed).toEqual([]); // not on the clock
    t.advance(3600);
    expect(analyzer.analyzed).toEqual([]);
  });

  it("analyze_on_clock runs analyze() every analyze_period seconds of the application clock while the pipeline runs", async () => {
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:Summing]\nanalyze_on_clock = yes\nanalyze_period = 30\n" });
    const analyzer = t.setUpProcessor(Summing) as Summing;
    expect(analyzer.analyzeOnClock).toBe(true);
    expect(analyzer.analyzePeriod).toBe(30);
    await t.execute([[null, { value: 1 }]]);
    const start = t.clock.now;
    t.advance(29);
    expect(analyzer.analyzed).toEqual([]);
    t.advance(1);
    expect(analyzer.analyzed).toEqual([{ at: start + 30, sum: 1 }]);
    await t.execute([[null, { value: 4 }]]);
    t.advance(60);
    expect(analyzer.analyzed).toEqual([
      { at: start + 30, sum: 1 },
      { at: start + 60, sum: 5 },
      { at: start + 90, sum: 5 },
    ]);
    expect(analyzer.analyzeProfile.runs).toBe(3);
    expect(analyzer.analyzeProfile.duration).toBeGreaterThanOrEqual(0);
    await t.tearDown();
    t.advance(300);
    expect(analyzer.analyzed).toHaveLength(3);
  });

  it("a period that the ticks do not divide does not drift: runs stay on the multiples of the period", async () => {
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:Summing]\nanalyze_period = 2.5\n" });
    const analyzer = t.setUpProcessor((app, p) => new Summing(app, p, { analyzeOnClock: true })) as Summing;
    await t.execute([]);
    const start = t.clock.now;
    t.advance(10);
    // due at 2.5, 5, 7.5, 10: the ticks come every second, so runs happen at 3, 5, 8, 10
    expect(analyzer.analyzed.map((a) => a.at - start)).toEqual([3, 5, 8, 10]);
    await t.tearDown();
  });

  it("a clock that jumps runs analyze() once, not once per missed period", async () => {
    const t = new ProcessorTestCase();
    const analyzer = t.setUpProcessor((app, p) => new Summing(app, p, { analyzeOnClock: true, config: { analyze_period: 10 } })) as Summing;
    await t.execute([]);
    t.clock.now += 1000;
    t.app.tick();
    expect(analyzer.analyzed).toHaveLength(1);
    t.advance(9);
    expect(analyzer.analyzed).toHaveLength(1);
    t.advance(1);
    expect(analyzer.analyzed).toHaveLength(2);
    await t.tearDown();
  });

  it("an async analyze() still running when the next period comes is not started twice", async () => {
    const t = new ProcessorTestCase();
    const gate = Promise.withResolvers<void>();
    let running = 0;
    let runs = 0;
    class Slow extends Analyzer {
      override async analyze(): Promise<void> {
        runs++;
        running++;
        await gate.promise;
        running--;
      }
    }
    t.setUpProcessor((app, p) => new Slow(app, p, { analyzeOnClock: true, config: { analyze_period: 1 } }));
    await t.execute([]);
    t.advance(5);
    expect(runs).toBe(1);
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(0);
    t.advance(1);
    expect(runs).toBe(2);
    await t.tearDown();
  });

  it("a failing analyze() is logged and the next period runs again; events keep flowing", async () => {
    const logs = captureLogs();
    try {
      const t = new ProcessorTestCase();
      let runs = 0;
      class Failing extends Analyzer {
        override analyze(): void {
          runs++;
          throw new Error("bad analysis");
        }
      }
      t.setUpProcessor((app, p) => new Failing(app, p, { analyzeOnClock: true, config: { analyze_period: 10 } }));
      await t.execute([]);
      t.advance(20);
      await new Promise((resolve) => setImmediate(resolve));
      expect(runs).toBe(2);
      const failures = logs.records.filter((r) => r.message === "analyze() failed");
      expect(failures).toHaveLength(2);
      expect((failures[0]!.fields.error as Error).message).toBe("bad analysis");
      expect(failures[0]!.fields.component).toBe("Failing");
      expect(events(await t.execute([[null, "still flowing"]]))).toEqual(["still flowing"]);
      await t.tearDown();
    } finally {
      logs.restore();
    }
  });

  it("the option analyzeOnClock wins over config given in code; the .conf file wins over both", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    expect(new Analyzer(app, p, { id: "A", analyzeOnClock: true, config: { analyze_on_clock: false } }).analyzeOnClock).toBe(true);
    expect(new Analyzer(app, p, { id: "B", config: { analyze_on_clock: "yes" } }).analyzeOnClock).toBe(true);
    expect(new Analyzer(app, p, { id: "C" }).analyzeOnClock).toBe(false);
    expect(foldOptions({ id: "X", config: { a: 1, b: 2 } }, { b: 3, c: undefined })).toEqual({ id: "X", config: { a: 1, b: 3 } });
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:Analyzer]\nanalyze_on_clock = no\n" });
    expect((t.setUpProcessor((app2, p2) => new Analyzer(app2, p2, { analyzeOnClock: true })) as Analyzer).analyzeOnClock).toBe(false);
  });

  it.each([["0"], ["-1"], ["often"]])("analyze_period = %s on the clock is a ConfigError", (value) => {
    const t = new ProcessorTestCase({ config: `[pipeline:UnitTestPipeline:Analyzer]\nanalyze_period = ${value}\n` });
    expect(() => t.setUpProcessor((app, p) => new Analyzer(app, p, { analyzeOnClock: true }))).toThrow(ConfigError);
    expect(() => t.setUpProcessor((app, p) => new Analyzer(app, p, { analyzeOnClock: true }))).toThrow(/\[pipeline:UnitTestPipeline:Analyzer\] key 'analyze_period'/);
  });

  it("is a Processor, so it fits anywhere in a chain; restGet() shows its clock", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const analyzer = new Analyzer(app, p, { analyzeOnClock: true });
    expect(analyzer).toBeInstanceOf(Processor);
    expect(analyzer.restGet()).toEqual({ Id: "Analyzer", Class: "Analyzer", PipelineId: "P", AnalyzeOnClock: true, AnalyzePeriod: 60, AnalyzeRuns: 0 });
  });
});

import { describe, expect, it } from "vitest";
import { NotFoundError, Pipeline, PubSubTrigger, TriggerSource, type Context, type PumpApplication } from "../../src/index.js";
import { AnalyzingSource, TimeWindowAnalyzer, TimeWindowMatrix, addMatrix } from "../../src/analyzer/index.js";
import { UnitTestSink, createApp, until } from "../helpers.js";
import { clockOf } from "../lookup/support.js";

/** A window whose analysis is the hits per host. */
class Traffic extends TimeWindowMatrix {
  override analyze(): Record<string, number> {
    return Object.fromEntries(this.rows().map(([host, row]) => [host, this.rowView(row).reduce((a, b) => a + b, 0)]));
  }
}

class CountHits extends TimeWindowAnalyzer<{ host: string; at: number }> {
  override evaluate(_context: Context, event: { host: string; at: number }): void {
    const row = this.timeWindow.getRowIndex(event.host) ?? this.timeWindow.addRow(event.host);
    const column = this.timeWindow.getColumn(event.at);
    if (column !== undefined) this.timeWindow.add(row, column);
  }
}

function emitting(app: PumpApplication, matrix: string | TimeWindowMatrix): { p: Pipeline; sink: UnitTestSink; source: AnalyzingSource } {
  const p = new Pipeline(app, "Report");
  const source = new AnalyzingSource(app, p, matrix).on(new PubSubTrigger(app, "report!"));
  const sink = new UnitTestSink(app, p);
  p.build(source, sink);
  return { p, sink, source };
}

describe("AnalyzingSource", () => {
  it("emits what the matrix's analyze() makes, once per trigger fire", async () => {
    const app = createApp();
    const clock = clockOf(app, 6000);
    const traffic = addMatrix(app, new Traffic(app, { id: "Traffic", resolution: 60, columns: 5 }));
    const analyzing = new Pipeline(app, "Analyzing");
    const analyzer = new CountHits(app, analyzing, { matrixId: "Traffic" });
    const { p, sink, source } = emitting(app, "Traffic");
    expect(source).toBeInstanceOf(TriggerSource);
    expect(source.matrix).toBe(traffic);
    await p.start();
    analyzer.process({}, { host: "a", at: clock.now - 10 });
    analyzer.process({}, { host: "a", at: clock.now - 70 });
    analyzer.process({}, { host: "b", at: clock.now - 10 });
    app.pubsub.publish("report!");
    await until(() => sink.events.length === 1, "the first report");
    expect(sink.events).toEqual([{ a: 2, b: 1 }]);
    analyzer.process({}, { host: "b", at: clock.now - 5 });
    app.pubsub.publish("report!");
    await until(() => sink.events.length === 2, "the second report");
    expect(sink.events[1]).toEqual({ a: 2, b: 2 });
    expect(source.restGet()).toMatchObject({ Id: "AnalyzingSource", Matrix: "Traffic" });
    await p.stop();
  });

  it("emits nothing when analyze() gives nothing, and awaits an async analyze()", async () => {
    const app = createApp();
    let answer: unknown;
    class Async extends TimeWindowMatrix {
      override async analyze(): Promise<unknown> {
        await new Promise((resolve) => setImmediate(resolve));
        return answer;
      }
    }
    const { p, sink } = emitting(app, new Async(app, { id: "Async" }));
    const cycles: unknown[] = [];
    p.pubsub.subscribe("bspump.pipeline.cycle_end!", () => cycles.push(answer));
    await p.start();
    app.pubsub.publish("report!");
    await until(() => cycles.length === 1, "a cycle without a report");
    answer = null;
    app.pubsub.publish("report!");
    await until(() => cycles.length === 2, "another");
    expect(sink.events).toEqual([]);
    answer = ["alarm 1", "alarm 2"];
    app.pubsub.publish("report!");
    await until(() => sink.events.length === 1, "a report");
    expect(sink.events).toEqual([["alarm 1", "alarm 2"]]);
    await p.stop();
  });

  it("an unknown matrix id is a NotFoundError at construction", () => {
    const app = createApp();
    expect(() => new AnalyzingSource(app, new Pipeline(app, "P"), "Nope")).toThrow(NotFoundError);
  });
});

import { describe, expect, expectTypeOf, it } from "vitest";
import { Generator, Pipeline, PipelineBuildError, Processor, Sink, type Context } from "../src/index.js";
import { UnitTestSink, ListSource, createApp } from "./helpers.js";

class ToText extends Processor<{ n: number }, string> {
  process(_c: Context, e: { n: number }): string {
    return String(e.n);
  }
}
class Length extends Processor<string, number> {
  process(_c: Context, e: string): number {
    return e.length;
  }
}
class Untyped extends Processor {
  process(_c: Context, e: unknown): unknown {
    return e;
  }
}
class NumberSink extends Sink<number> {
  process(): void {}
}
class Chars extends Generator<string, string> {
  generate(context: Context, event: string, depth: number): void {
    for (const c of event) this.pipeline.inject(context, c, depth);
  }
}
class ObjectSource extends ListSource<{ n: number }> {}

describe("building a pipeline", () => {
  it("ids default to the class name; config sections follow BSPump's names", () => {
    const app = createApp();
    const p = new Pipeline(app, "MyPipeline");
    const proc = new Length(app, p);
    const named = new Length(app, p, { id: "Second" });
    expect(proc.id).toBe("Length");
    expect(named.id).toBe("Second");
    expect(proc.config.section).toBe("pipeline:MyPipeline:Length");
    expect(p.config.section).toBe("pipeline:MyPipeline");
    expect(new Pipeline(app).id).toBe("Pipeline");
    expect(proc.locateAddress()).toBe("MyPipeline.Length");
  });

  it("refuses a processor after the sink, and a processor id twice", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new UnitTestSink(app, p));
    expect(() => p.appendProcessor(new Untyped(app, p))).toThrow(PipelineBuildError);
    expect(() => p.appendProcessor(new Untyped(app, p))).toThrow(/cannot add 'Untyped' after the sink 'UnitTestSink'/);
    const q = new Pipeline(app, "Q");
    q.appendProcessor(new Untyped(app, q));
    expect(() => q.appendProcessor(new Untyped(app, q))).toThrow(/already has a processor 'Untyped'/);
  });

  it("refuses components of another pipeline and pipeline ids with a dot", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const q = new Pipeline(app, "Q");
    expect(() => p.appendProcessor(new Untyped(app, q))).toThrow(/belongs to pipeline 'Q'/);
    expect(() => new Pipeline(app, "a.b")).toThrow(/must not contain '.'/);
  });

  it("insertBefore / insertAfter / removeProcessor keep generator depths right", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const chars = new Chars(app, p);
    p.build(new ListSource(app, p), new Untyped(app, p, { id: "A" }), chars, new UnitTestSink(app, p));
    const ids = (): string[][] => [...p.iterProcessors()].map((d) => d.map((x) => x.id));
    expect(ids()).toEqual([["A", "Chars"], ["UnitTestSink"]]);
    expect(p.insertAfter("Chars", new Untyped(app, p, { id: "B" }))).toBe(true);
    expect(p.insertBefore("A", new Untyped(app, p, { id: "Z" }))).toBe(true);
    expect(p.insertBefore("missing", new Untyped(app, p, { id: "Y" }))).toBe(false);
    expect(ids()).toEqual([["Z", "A", "Chars"], ["B", "UnitTestSink"]]);
    expect(() => p.insertAfter("UnitTestSink", new Untyped(app, p, { id: "C" }))).toThrow(PipelineBuildError);
    p.removeProcessor("Chars");
    expect(ids()).toEqual([["Z", "A", "B", "UnitTestSink"]]);
    expect(() => p.removeProcessor("Chars")).toThrow(/not found/);
    p.insertAfter("A", chars);
    expect(chars.pipelineDepth).toBe(0);
    expect(ids()).toEqual([["Z", "A", "Chars"], ["B", "UnitTestSink"]]);
  });

  it("locates sources and processors by id; several sources feed one chain", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const s1 = new ListSource(app, p, { id: "S1" });
    const s2 = new ListSource(app, p, { id: "S2" });
    const sink = new UnitTestSink(app, p);
    p.build([s1, s2], sink);
    expect(p.locateSource("S2")).toBe(s2);
    expect(p.locateProcessor("UnitTestSink")).toBe(sink);
    expect(p.locateProcessor("nope")).toBeUndefined();
    expect(s1.locateAddress()).toBe("P.*S1");
    expect(() => p.setSource(new ListSource(app, p, { id: "S1" }))).toThrow(/already has a source 'S1'/);
  });

  it("the REST view shows the chain by depth, sources and readiness", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new Chars(app, p), new UnitTestSink(app, p));
    const view = p.restGet();
    expect(view).toMatchObject({
      Id: "P",
      Ready: false,
      Throttles: [],
      Sources: [{ Id: "ListSource", Class: "ListSource" }],
      Processors: [[{ Id: "Chars", Class: "Chars", PipelineId: "P" }], [{ Id: "UnitTestSink", Class: "UnitTestSink", PipelineId: "P" }]],
    });
  });
});

describe("types that flow through build()", () => {
  it("accepts a chain whose types match, from the source to the sink", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ObjectSource(app, p), new ToText(app, p), new Length(app, p), new NumberSink(app, p));
    const q = new Pipeline(app, "Q");
    q.build(new ObjectSource(app, q), new ToText(app, q), new Chars(app, q), new Length(app, q), new NumberSink(app, q));
    expect([...q.iterProcessors()].map((d) => d.length)).toEqual([2, 2]);
  });

  it("rejects a processor that expects something else than the one before gives", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    // @ts-expect-error Length takes a string, the source gives { n: number }
    p.build(new ObjectSource(app, p), new Length(app, p), new NumberSink(app, p));
    const q = new Pipeline(app, "Q");
    // @ts-expect-error NumberSink takes a number, ToText gives a string
    q.build(new ObjectSource(app, q), new ToText(app, q), new NumberSink(app, q));
    const r = new Pipeline(app, "R");
    // @ts-expect-error nothing may follow a sink
    expect(() => r.build(new ObjectSource(app, r), new ToText(app, r), new Length(app, r), new NumberSink(app, r), new Untyped(app, r))).toThrow(PipelineBuildError);
  });

  it("untyped components (BSPump style) fit anywhere", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    p.build(new ListSource(app, p), new Untyped(app, p), new Length(app, p), new Untyped(app, p, { id: "U2" }), new NumberSink(app, p));
    expectTypeOf(new Untyped(app, p, { id: "U3" }).process).parameter(1).toBeUnknown();
    expectTypeOf(new ToText(app, p, { id: "T" }).process).returns.toEqualTypeOf<string>();
  });
});

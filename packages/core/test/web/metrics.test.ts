import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { PumpApplication, type Pipeline } from "../../src/index.js";
import { escapeHelp, escapeLabelValue, formatPrometheusValue, renderPrometheus } from "../../src/web/index.js";
import { buildFixture, settled, startPump, stopAll, type Fixture } from "./web-helpers.js";

afterEach(stopAll);

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Every line of the text format 0.0.4: a comment (HELP/TYPE) or a sample `name{labels} value`. */
const LINE =
  /^(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|untyped)|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|-?\d+(\.\d+)?([eE][+-]?\d+)?))$/;

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no family ${name}`);
  return found;
}

/** The value of a family's sample with exactly these labels, as a number. */
function value(families: ParsedFamily[], name: string, labels: Record<string, string>): number {
  const samples = family(families, name).metrics.filter((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
  if (samples.length !== 1) throw new Error(`${samples.length} samples of ${name} ${JSON.stringify(labels)}`);
  return Number(samples[0]!.value);
}

async function scrape(url: string): Promise<{ text: string; families: ParsedFamily[] }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(CONTENT_TYPE);
  const text = await response.text();
  return { text, families: parsePrometheusTextFormat(text) };
}

describe("metrics", () => {
  it("GET /bspump/v1/metrics: per pipeline the counters, eps, ratios, duty cycle and per-processor runs and duration", async () => {
    let fixture!: Fixture;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => (fixture = buildFixture(app)));
    await settled(fixture);
    const response = await fetch(`${pump.url}/bspump/v1/metrics`);
    expect(response.status).toBe(200);
    const metrics = (await response.json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(metrics)).toEqual(["Orders", "Broken"]);
    expect(metrics.Orders).toMatchObject({ in: 10, out: 5, drop: 5, warning: 0, error: 0, routedErrors: 0, warningRatio: 0, errorRatio: 0 });
    expect(metrics.Broken).toMatchObject({ in: 2, out: 1, drop: 1, error: 1, errorRatio: 0.5 }); // "bad" was lost to the error
    expect(Object.keys(metrics.Orders!.eps as object).toSorted()).toEqual(["drop", "error", "in", "out", "routedErrors", "warning"]);
    expect(metrics.Orders!.readyDutyCycle).toBeGreaterThan(0);
    expect(metrics.Orders!.readyDutyCycle).toBeLessThanOrEqual(1);
    const profiler = metrics.Orders!.profiler as Record<string, { runs: number; duration: number }>;
    expect(Object.keys(profiler)).toEqual(["DropOdd", "UnitTestSink"]);
    expect(profiler.DropOdd!.runs).toBe(10);
    expect(profiler.UnitTestSink!.runs).toBe(5);
    expect(profiler.DropOdd!.duration).toBeGreaterThanOrEqual(0);
  });

  it("GET /metrics and /bspump/v1/metrics/prometheus: the text format 0.0.4, what the pipelines counted", async () => {
    let fixture!: Fixture;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => (fixture = buildFixture(app)));
    await settled(fixture);
    pump.app.tick(); // closes a rate period: eps are per second over it

    for (const path of ["/metrics", "/bspump/v1/metrics/prometheus"]) {
      const { text, families } = await scrape(`${pump.url}${path}`);
      for (const line of text.trimEnd().split("\n")) expect(line).toMatch(LINE);
      expect(text.endsWith("\n")).toBe(true);

      const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
      expect(types).toMatchObject({
        bspump_build_info: "GAUGE",
        bspump_pipeline_events_in_total: "COUNTER",
        bspump_pipeline_events_out_total: "COUNTER",
        bspump_pipeline_events_dropped_total: "COUNTER",
        bspump_pipeline_warnings_total: "COUNTER",
        bspump_pipeline_errors_total: "COUNTER",
        bspump_pipeline_routed_errors_total: "COUNTER",
        bspump_pipeline_eps_in: "GAUGE",
        bspump_pipeline_eps_out: "GAUGE",
        bspump_pipeline_eps_dropped: "GAUGE",
        bspump_pipeline_eps_warnings: "GAUGE",
        bspump_pipeline_eps_errors: "GAUGE",
        bspump_pipeline_warning_ratio: "GAUGE",
        bspump_pipeline_error_ratio: "GAUGE",
        bspump_pipeline_ready: "GAUGE",
        bspump_pipeline_ready_duty_cycle: "GAUGE",
        bspump_pipeline_throttled: "GAUGE",
        bspump_pipeline_in_error: "GAUGE",
        bspump_processor_runs_total: "COUNTER",
        bspump_processor_duration_seconds_total: "COUNTER",
      });
      for (const f of families) expect(f.help.length).toBeGreaterThan(10);
      expect(family(families, "bspump_build_info").metrics).toEqual([{ value: "1", labels: { version: PumpApplication.VERSION, node: process.version } }]);

      for (const pipeline of [fixture.orders, fixture.broken] as Pipeline[]) {
        const m = pipeline.metricsSnapshot();
        const p = { pipeline: pipeline.id };
        expect(value(families, "bspump_pipeline_events_in_total", p)).toBe(m.in);
        expect(value(families, "bspump_pipeline_events_out_total", p)).toBe(m.out);
        expect(value(families, "bspump_pipeline_events_dropped_total", p)).toBe(m.drop);
        expect(value(families, "bspump_pipeline_warnings_total", p)).toBe(m.warning);
        expect(value(families, "bspump_pipeline_errors_total", p)).toBe(m.error);
        expect(value(families, "bspump_pipeline_routed_errors_total", p)).toBe(m.routedErrors);
        expect(value(families, "bspump_pipeline_eps_in", p)).toBe(m.eps.in);
        expect(value(families, "bspump_pipeline_eps_out", p)).toBe(m.eps.out);
        expect(value(families, "bspump_pipeline_error_ratio", p)).toBe(m.errorRatio);
        expect(value(families, "bspump_pipeline_ready", p)).toBe(pipeline.isReady() ? 1 : 0);
        expect(value(families, "bspump_pipeline_in_error", p)).toBe(pipeline.isError() ? 1 : 0);
        expect(value(families, "bspump_pipeline_throttled", p)).toBe(0);
        const duty = value(families, "bspump_pipeline_ready_duty_cycle", p);
        expect(duty).toBeGreaterThan(0);
        expect(duty).toBeLessThanOrEqual(1);
        for (const [processor, profile] of Object.entries(m.profiler)) {
          expect(value(families, "bspump_processor_runs_total", { pipeline: pipeline.id, processor })).toBe(profile.runs);
          expect(value(families, "bspump_processor_duration_seconds_total", { pipeline: pipeline.id, processor })).toBeCloseTo(profile.duration, 9);
        }
      }
      // What the fixture counted, literally.
      expect(value(families, "bspump_pipeline_events_in_total", { pipeline: "Orders" })).toBe(10);
      expect(value(families, "bspump_pipeline_events_out_total", { pipeline: "Orders" })).toBe(5);
      expect(value(families, "bspump_pipeline_events_dropped_total", { pipeline: "Orders" })).toBe(5);
      expect(value(families, "bspump_pipeline_errors_total", { pipeline: "Broken" })).toBe(1);
      expect(value(families, "bspump_pipeline_ready", { pipeline: "Orders" })).toBe(1);
      expect(value(families, "bspump_pipeline_ready", { pipeline: "Broken" })).toBe(0);
      expect(value(families, "bspump_pipeline_in_error", { pipeline: "Broken" })).toBe(1);
      expect(value(families, "bspump_processor_runs_total", { pipeline: "Orders", processor: "DropOdd" })).toBe(10);
      expect(value(families, "bspump_processor_runs_total", { pipeline: "Orders", processor: "UnitTestSink" })).toBe(5);
      expect(family(families, "bspump_processor_runs_total").metrics).toHaveLength(4);
    }
  });

  it("shows a throttled pipeline, and escapes label values (quotes, backslashes, line feeds)", async () => {
    const odd = 'Or"ders\\east\nline';
    let fixture!: Fixture;
    const pump = await startPump("[web]\nlisten=127.0.0.1:0", (app) => (fixture = buildFixture(app, odd)));
    await settled(fixture);
    fixture.orders.throttle("SomeSink", true);
    const { text, families } = await scrape(`${pump.url}/metrics`);
    expect(text).toContain('bspump_pipeline_events_in_total{pipeline="Or\\"ders\\\\east\\nline"} 10\n');
    expect(value(families, "bspump_pipeline_events_in_total", { pipeline: odd })).toBe(10);
    expect(value(families, "bspump_pipeline_throttled", { pipeline: odd })).toBe(1);
    expect(value(families, "bspump_pipeline_ready", { pipeline: odd })).toBe(0);
    expect(value(families, "bspump_processor_runs_total", { pipeline: odd, processor: "DropOdd" })).toBe(10);
    fixture.orders.throttle("SomeSink", false);
  });

  it("with no pipelines, only the build info", async () => {
    const pump = await startPump("[web]\nlisten=127.0.0.1:0");
    const { families } = await scrape(`${pump.url}/metrics`);
    expect(families.map((f) => f.name)).toEqual(["bspump_build_info"]);
  });
});

describe("renderPrometheus", () => {
  it("escapes HELP and label values as the format says, writes Go floats, leaves empty families out", () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeHelp('say "hi"\\\nbye')).toBe('say "hi"\\\\\\nbye');
    expect([NaN, Infinity, -Infinity, 0, 1.5, 1e-7, 2 ** 53].map(formatPrometheusValue)).toEqual(["NaN", "+Inf", "-Inf", "0", "1.5", "1e-7", "9007199254740992"]);
    const text = renderPrometheus([
      { name: "x_total", help: "Line\nbreak", type: "counter", samples: [{ labels: { a: "1", b: "\\" }, value: 3 }] },
      { name: "empty", help: "none", type: "gauge", samples: [] },
      { name: "y", help: "plain", type: "untyped", samples: [{ labels: {}, value: NaN }] },
    ]);
    expect(text).toBe('# HELP x_total Line\\nbreak\n# TYPE x_total counter\nx_total{a="1",b="\\\\"} 3\n# HELP y plain\n# TYPE y untyped\ny NaN\n');
    const parsed = parsePrometheusTextFormat(text);
    expect(parsed.map((f) => [f.name, f.type, f.help])).toEqual([
      ["x_total", "COUNTER", "Line\nbreak"],
      ["y", "UNTYPED", "plain"],
    ]);
    expect(parsed[0]!.metrics[0]!.labels).toEqual({ a: "1", b: "\\" });
  });

  it("refuses invalid metric and label names", () => {
    expect(() => renderPrometheus([{ name: "bad-name", help: "", type: "gauge", samples: [] }])).toThrow(/metric name 'bad-name'/);
    expect(() => renderPrometheus([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad label": "x" }, value: 1 }] }])).toThrow(/label name/);
    expect(() => renderPrometheus([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { __reserved: "x" }, value: 1 }] }])).toThrow(/label name/);
  });
});

import type { PumpService } from "../application/service.js";

/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
 * sample per line, `name{label="value",...} number`.
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "untyped";

export interface MetricSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: samples of one name. A counter's name ends in `_total`, as the format asks. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A HELP text: backslash and line feed are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** Go's float syntax, which Prometheus parses: `+Inf`, `-Inf`, `NaN`, else the shortest decimal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Renders families in order; families without samples are left out. Throws on an invalid metric or label name. */
export function renderPrometheus(families: Iterable<MetricFamily>): string {
  let text = "";
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new TypeError(`Invalid Prometheus metric name '${family.name}'`);
    if (family.samples.length === 0) continue;
    text += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    for (const sample of family.samples) {
      const labels: string[] = [];
      for (const [name, value] of Object.entries(sample.labels)) {
        if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new TypeError(`Invalid Prometheus label name '${name}' on '${family.name}'`);
        labels.push(`${name}="${escapeLabelValue(value)}"`);
      }
      text += `${family.name}${labels.length === 0 ? "" : `{${labels.join(",")}}`} ${formatValue(sample.value)}\n`;
    }
  }
  return text;
}

const counter = (name: string, help: string): MetricFamily => ({ name, help, type: "counter", samples: [] });
const gauge = (name: string, help: string): MetricFamily => ({ name, help, type: "gauge", samples: [] });

/**
 * BSPump's pipeline metrics (`bspump.pipeline`, `.eps`, `.gauge`, `.dutycycle`, `.profiler`) as
 * Prometheus families, labelled by `pipeline` (and `processor`).
 */
export function pumpMetricFamilies(service: PumpService, version: string): MetricFamily[] {
  const info = gauge("bspump_build_info", "The @pump/core version and the Node.js version; always 1.");
  info.samples.push({ labels: { version, node: process.version }, value: 1 });
  const eventsIn = counter("bspump_pipeline_events_in_total", "Events that entered the pipeline from its sources.");
  const eventsOut = counter("bspump_pipeline_events_out_total", "Events taken out of the pipeline by a sink.");
  const dropped = counter("bspump_pipeline_events_dropped_total", "Events a processor dropped, or lost to an error.");
  const warnings = counter("bspump_pipeline_warnings_total", "Soft errors: events handleError() allowed to drop.");
  const errors = counter("bspump_pipeline_errors_total", "Hard errors: each stopped the pipeline until it was cleared.");
  const routed = counter("bspump_pipeline_routed_errors_total", "Failed events sent to the error route instead of stopping the pipeline.");
  const epsIn = gauge("bspump_pipeline_eps_in", "Events per second in, over the last tick.");
  const epsOut = gauge("bspump_pipeline_eps_out", "Events per second out, over the last tick.");
  const epsDropped = gauge("bspump_pipeline_eps_dropped", "Events per second dropped, over the last tick.");
  const epsWarnings = gauge("bspump_pipeline_eps_warnings", "Soft errors per second, over the last tick.");
  const epsErrors = gauge("bspump_pipeline_eps_errors", "Hard errors per second, over the last tick.");
  const warningRatio = gauge("bspump_pipeline_warning_ratio", "Soft errors per event in.");
  const errorRatio = gauge("bspump_pipeline_error_ratio", "Hard errors per event in.");
  const ready = gauge("bspump_pipeline_ready", "1 while the pipeline is ready (running, no error, not throttled), else 0.");
  const dutyCycle = gauge("bspump_pipeline_ready_duty_cycle", "Share of time the pipeline was ready since it was created, 0 to 1.");
  const throttled = gauge("bspump_pipeline_throttled", "1 while something throttles the pipeline, else 0.");
  const inError = gauge("bspump_pipeline_in_error", "1 while the pipeline is stopped by a hard error, else 0.");
  const runs = counter("bspump_processor_runs_total", "Times a processor ran (once per batch).");
  const duration = counter("bspump_processor_duration_seconds_total", "Seconds spent in a processor.");

  for (const pipeline of service.pipelines.values()) {
    const labels = { pipeline: pipeline.id };
    const m = pipeline.metricsSnapshot();
    const add = (family: MetricFamily, value: number): void => {
      family.samples.push({ labels, value });
    };
    add(eventsIn, m.in);
    add(eventsOut, m.out);
    add(dropped, m.drop);
    add(warnings, m.warning);
    add(errors, m.error);
    add(routed, m.routedErrors);
    add(epsIn, m.eps.in);
    add(epsOut, m.eps.out);
    add(epsDropped, m.eps.drop);
    add(epsWarnings, m.eps.warning);
    add(epsErrors, m.eps.error);
    add(warningRatio, m.warningRatio);
    add(errorRatio, m.errorRatio);
    add(ready, pipeline.isReady() ? 1 : 0);
    add(dutyCycle, m.readyDutyCycle);
    add(throttled, pipeline.getThrottles().size > 0 ? 1 : 0);
    add(inError, pipeline.isError() ? 1 : 0);
    for (const [processor, profile] of Object.entries(m.profiler)) {
      runs.samples.push({ labels: { pipeline: pipeline.id, processor }, value: profile.runs });
      duration.samples.push({ labels: { pipeline: pipeline.id, processor }, value: profile.duration });
    }
  }
  return [info, eventsIn, eventsOut, dropped, warnings, errors, routed, epsIn, epsOut, epsDropped, epsWarnings, epsErrors, warningRatio, errorRatio, ready, dutyCycle, throttled, inError, runs, duration];
}

// Turns runs into rows (median of the rounds, ratio against the baseline round by round), prints
// the table and describes the machine.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { median, type Flatness, type Sample } from "./measure.ts";
import type { Row, RunResult, Workload } from "./workload.ts";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
  commit: string | null;
  /** 1, 5 and 15 minute load averages when the run began: above the core count, timings are noisy. */
  loadAverage: number[];
}

export function machine(): Machine {
  let commit: string | null = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // not a git checkout
  }
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    commit,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The run whose events/s is the median of the variant's runs (the lower middle for an even count). */
function medianRun(runs: RunResult[]): RunResult {
  const sorted = runs.toSorted((a, b) => a.eventsPerSecond - b.eventsPerSecond);
  return sorted[(sorted.length - 1) >> 1]!;
}

export function summarise(workload: Workload, runs: RunResult[]): Row[] {
  const byVariant = new Map<string, RunResult[]>();
  for (const run of runs) byVariant.set(run.variant, [...(byVariant.get(run.variant) ?? []), run]);
  const baseRuns = byVariant.get(workload.baseline) ?? [];
  const baseCheck = baseRuns[0]?.check ?? null;
  const rows: Row[] = [];
  for (const variant of workload.variants) {
    const mine = byVariant.get(variant) ?? [];
    if (mine.length === 0) continue;
    const mid = medianRun(mine);
    const isBaseline = variant === workload.baseline;
    const ratios: number[] = [];
    for (const run of mine) {
      const base = baseRuns.find((b) => b.round === run.round);
      if (base !== undefined) ratios.push(run.eventsPerSecond / base.eventsPerSecond);
    }
    const notes: string[] = [];
    const checks = new Set(mine.map((r) => r.check));
    if (checks.size > 1) notes.push(`runs disagree: ${[...checks].join(" ≠ ")}`);
    if (!isBaseline && baseCheck !== null && mid.check !== baseCheck) notes.push(`output differs from the baseline's (${mid.check} ≠ ${baseCheck})`);
    rows.push({
      workload: workload.id,
      variant,
      label: workload.labels?.[variant] ?? variant,
      baseline: isBaseline,
      rounds: mine.length,
      events: mid.events,
      seconds: mid.seconds,
      eventsPerSecond: mid.eventsPerSecond,
      mbPerSecond: mid.mbPerSecond,
      cpuSecondsPerMillion: median(mine.map((r) => r.cpuSecondsPerMillion)),
      peakRssMiB: Math.max(...mine.map((r) => r.peakRssMiB)),
      allocatedBytesPerEvent: median(mine.map((r) => r.allocatedBytesPerEvent)),
      ratio: ratios.length === 0 ? null : isBaseline ? 1 : median(ratios),
      target: "",
      status: notes.length > 0 ? "FAIL" : "INFO",
      notes,
      extra: { ...mid.extra, check: mid.check, ratiosByRound: ratios, rssTimeline: mid.rssTimeline },
    });
  }
  const base = rows.find((r) => r.baseline);
  for (const row of rows) {
    if (row.baseline || base === undefined) continue;
    row.extra.cpuRatio = row.cpuSecondsPerMillion / base.cpuSecondsPerMillion;
  }
  for (const row of rows) {
    if (row.baseline || workload.judge === undefined) continue;
    const verdict = workload.judge(row, rows);
    row.target = verdict.target;
    row.notes.push(...(verdict.notes ?? []));
    if (row.status !== "FAIL" && verdict.pass !== null) row.status = verdict.pass ? "PASS" : "FAIL";
  }
  return rows;
}

function si(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

const COLUMNS = ["workload", "variant", "events", "seconds", "events/s", "MB/s", "CPU s/1M ev", "alloc B/ev", "peak RSS MiB", "ratio", "CPU cost×", "target", "status"];

export function tableLines(rows: Row[]): string[] {
  const cells = rows.map((r) => [
    r.workload,
    r.label,
    si(r.events),
    r.seconds.toFixed(3),
    si(r.eventsPerSecond),
    r.mbPerSecond === null ? "—" : r.mbPerSecond.toFixed(1),
    r.cpuSecondsPerMillion.toFixed(3),
    r.allocatedBytesPerEvent.toFixed(0),
    r.peakRssMiB.toFixed(1),
    r.ratio === null ? "—" : `${r.ratio.toFixed(2)}×`,
    typeof r.extra.cpuRatio === "number" ? `${r.extra.cpuRatio.toFixed(2)}×` : r.baseline ? "1.00×" : "—",
    r.baseline ? "baseline" : r.target || "—",
    r.baseline ? "" : r.status,
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i >= 2 && i <= 10 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(COLUMNS), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
}

/** The lines under a workload's table: notes, and the figures specific to it. */
export function detailLines(rows: Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const e = row.extra;
    const bits: string[] = [...row.notes];
    if (typeof e.throttledSeconds === "number") {
      const running = row.seconds - (e.throttledSeconds as number);
      bits.push(
        `source throttled ${(e.throttledSeconds as number).toFixed(2)} s (${(((e.throttledShare as number) ?? 0) * 100).toFixed(0)}% of the run, ${e.throttles} times); ` +
          `it made ${si(running > 0 ? row.events / running : 0)} ev/s while not throttled, the sink drains ${si(e.sinkRate as number)} ev/s; sink buffer max ${e.maxBuffered}/${e.capacity}`,
      );
    }
    const flat = e.rssFlatness as Flatness | undefined;
    const timeline = e.rssTimeline as Sample[] | undefined;
    if (row.workload === "w3" && flat !== undefined && timeline !== undefined) {
      const samples = pick(timeline, 8).map(([t, rss]) => `${t.toFixed(1)}s:${rss.toFixed(0)}`);
      bits.push(
        `RSS MiB over time ${samples.join(" ")}; start ${Number(e.startRssMiB).toFixed(0)}, max over 20–60% of the run ${flat.earlyMaxMiB.toFixed(0)}, over 60–100% ${flat.lateMaxMiB.toFixed(0)}; ` +
          (flat.heapFloorGrowthMiB === null ? "live heap floor n/a (run under 2 s)" : `live heap floor ${flat.earlyHeapFloorMiB.toFixed(0)} → ${flat.lateHeapFloorMiB.toFixed(0)} MiB`),
      );
    }
    if (typeof e.check === "string" && e.check.startsWith("sha256:")) bits.push(`output ${e.check.slice(0, 23)}…`);
    if (bits.length > 0) out.push(`  ${row.workload} ${row.label}: ${bits.join("; ")}`);
  }
  return out;
}

function pick<T>(points: T[], n: number): T[] {
  if (points.length <= n) return points;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(points[Math.round((i * (points.length - 1)) / (n - 1))]!);
  return out;
}

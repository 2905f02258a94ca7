// `pnpm bench`: every workload beside its baseline, in rounds that alternate the variants, each run
// in a fresh child process; a table per workload, and the same as JSON in results/latest.json
// (BENCH_REFERENCE=1 writes results/reference.json too).
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { ONLY, ROUNDS, SCALE, SEED, STRICT } from "./config.ts";
import { loadWorkloads } from "./registry.ts";
import { detailLines, machine, summarise, tableLines } from "./report.ts";
import { BENCH_DIR, prepare, runChild, scratchRoot, skipReason } from "./runner.ts";
import type { Row, RunResult } from "./workload.ts";

const workloads = await loadWorkloads();

interface WorkloadReport {
  id: string;
  title: string;
  description: string;
  skipped?: string;
  error?: string;
  rows: Row[];
  runs: RunResult[];
}

const host = machine();
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

say(`@pump bench — ${host.date}`);
say(`machine: ${host.cpuModel}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.os}; Node ${host.node}; commit ${host.commit ?? "?"}; load average ${host.loadAverage.join(" ")}`);
if ((host.loadAverage[0] ?? 0) > host.cores) say(`warning: the load average is above the core count: other work competes for the CPU, wall-clock figures are noisy (the CPU cost column holds better)`);
say(`settings: BENCH_SCALE=${SCALE} BENCH_ROUNDS=${ROUNDS} BENCH_SEED=${SEED} scratch=${scratchRoot()}${ONLY.length > 0 ? ` BENCH_ONLY=${ONLY.join(",")}` : ""}`);

const reports: WorkloadReport[] = [];
let broken = false;

for (const workload of workloads) {
  if (ONLY.length > 0 && !ONLY.includes(workload.id)) continue;
  const report: WorkloadReport = { id: workload.id, title: workload.title, description: workload.description, rows: [], runs: [] };
  reports.push(report);
  say();
  say(`## ${workload.title}`);
  const skip = skipReason(workload);
  if (skip !== undefined) {
    report.skipped = skip;
    say(`  skipped: ${skip}`);
    continue;
  }
  const prepared = await prepare(workload);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // alternate, and start each round with a different variant so neither always runs first
      const order = workload.variants.map((_, i) => workload.variants[(i + round - 1) % workload.variants.length]!);
      for (const variant of order) {
        const run = await runChild(workload, variant, round, prepared.params);
        report.runs.push(run);
        progress(`  ${workload.id} round ${round}/${ROUNDS} ${variant}: ${run.seconds.toFixed(2)} s, ${(run.eventsPerSecond / 1e6).toFixed(3)} M ev/s, peak RSS ${run.peakRssMiB.toFixed(0)} MiB`);
      }
    }
    report.rows = summarise(workload, report.runs);
    for (const line of tableLines(report.rows)) say(`  ${line}`);
    for (const line of detailLines(report.rows)) say(line);
  } catch (error) {
    broken = true;
    report.error = error instanceof Error ? error.message : String(error);
    say(`  ERROR: ${report.error}`);
  } finally {
    await prepared.cleanup();
  }
}

const rows = reports.flatMap((r) => r.rows);
const failed = rows.filter((r) => r.status === "FAIL");
const skipped = reports.filter((r) => r.skipped !== undefined);
say();
say("## Summary");
for (const line of tableLines(rows)) say(`  ${line}`);
say();
say(`${rows.filter((r) => r.status === "PASS").length} targets met, ${failed.length} missed${skipped.length > 0 ? `, ${skipped.length} workloads skipped (${skipped.map((s) => s.id).join(", ")})` : ""}${broken ? ", some workloads broke" : ""}`);

const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
say(`load average at the end: ${loadAtEnd.join(" ")}`);
const json = JSON.stringify({ machine: { ...host, loadAverageAtEnd: loadAtEnd }, settings: { scale: SCALE, rounds: ROUNDS, seed: SEED, scratch: scratchRoot() }, workloads: reports }, null, 2);
const dir = join(BENCH_DIR, "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "latest.json"), `${json}\n`);
say(`written: ${join("tooling/bench/results", "latest.json")}`);
if (process.env.BENCH_REFERENCE === "1") {
  writeFileSync(join(dir, "reference.json"), `${json}\n`);
  say(`written: ${join("tooling/bench/results", "reference.json")}`);
}
process.exitCode = broken || (STRICT && failed.length > 0) ? 1 : 0;

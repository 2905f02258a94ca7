// `pnpm --filter @pump/bench profile <workload> [variant] [--heap] [--top=N]`: runs one variant (by
// default the first that is not the baseline) once under `node --cpu-prof` (or `--heap-prof` for
// allocations) and prints where the time (or the allocated bytes) went, by function and by file.
// The raw profile stays in results/profiles/ for Chrome DevTools or speedscope.
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { loadWorkloads } from "./registry.ts";
import { BENCH_DIR, prepare, runChild } from "./runner.ts";

const workloads = await loadWorkloads();

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuNode {
  id: number;
  callFrame: CallFrame;
  /** Samples per source line (1-based), where V8 recorded them. */
  positionTicks?: { line: number; ticks: number }[];
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const args = process.argv.slice(2);
const heap = args.includes("--heap");
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 25);
const [id, wanted] = args.filter((a) => !a.startsWith("--"));
const workload = workloads.find((w) => w.id === id);
if (workload === undefined) {
  console.error(`usage: node src/profile.ts <${workloads.map((w) => w.id).join("|")}> [variant] [--heap] [--top=N]`);
  process.exit(2);
}
const variant = wanted ?? workload.variants.find((v) => v !== workload.baseline)!;
const dir = join(BENCH_DIR, "results", "profiles");
mkdirSync(dir, { recursive: true });
const name = `${workload.id}-${variant}-${Date.now()}.${heap ? "heapprofile" : "cpuprofile"}`;
const flags = heap ? ["--heap-prof", `--heap-prof-dir=${dir}`, `--heap-prof-name=${name}`] : ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`];

const prepared = await prepare(workload);
try {
  const run = await runChild(workload, variant, 1, prepared.params, flags);
  console.log(`${workload.id}/${variant}: ${run.events} events in ${run.seconds.toFixed(3)} s (${(run.eventsPerSecond / 1e6).toFixed(3)} M ev/s) under the profiler`);
} finally {
  await prepared.cleanup();
}
const file = join(dir, name);
statSync(file);
console.log(`profile: ${relative(process.cwd(), file)}`);

const where = (f: CallFrame): string => {
  const url = f.url.replace(/^file:\/\//, "");
  const short = url.includes("/packages/") ? url.slice(url.indexOf("/packages/") + 1) : url.includes("/tooling/") ? url.slice(url.indexOf("/tooling/") + 1) : url;
  return short === "" ? "(native)" : `${short}:${f.lineNumber + 1}`;
};
const fileOf = (f: CallFrame): string => where(f).replace(/:\d+$/, "");

/** Sorted [key, value] with the share of the total. */
function rank(totals: Map<string, number>): [string, number, number][] {
  const sum = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals.entries()].toSorted((a, b) => b[1] - a[1]).map(([k, v]) => [k, v, (100 * v) / sum]);
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const add = (map: Map<string, number>, key: string, value: number): void => void map.set(key, (map.get(key) ?? 0) + value);

if (heap) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { head: HeapNode };
  const walk = (node: HeapNode): void => {
    if (node.selfSize > 0) {
      add(byFunction, `${node.callFrame.functionName || "(anonymous)"}  ${where(node.callFrame)}`, node.selfSize);
      add(byFile, fileOf(node.callFrame), node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  // V8's sampling heap profiler keeps only what is still alive when the profile is taken: this shows
  // retention (what holds memory at the end), not the allocation rate (the table's alloc B/ev)
  console.log(`\nsampled allocations still alive at the end, by function (top ${top}):`);
  for (const [k, v, pct] of rank(byFunction).slice(0, top)) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}`);
} else {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  // timeDeltas[i + 1] is the time until the next sample: the time spent in samples[i]
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodes.get(profile.samples[i]!)!;
    const us = profile.timeDeltas[i + 1] ?? 0;
    add(byFunction, `${node.callFrame.functionName || "(anonymous)"}  ${where(node.callFrame)}`, us);
    add(byFile, fileOf(node.callFrame), us);
  }
  const total = [...byFunction.values()].reduce((a, b) => a + b, 0);
  console.log(`\nself time by function (top ${top} of ${(total / 1e6).toFixed(2)} s sampled):`);
  for (const [k, v, pct] of rank(byFunction).slice(0, top)) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  // the hottest lines, from the per-line tick counts V8 keeps for optimized code
  const byLine = new Map<string, number>();
  let ticks = 0;
  for (const node of profile.nodes) {
    for (const { line, ticks: t } of node.positionTicks ?? []) {
      add(byLine, `${node.callFrame.functionName || "(anonymous)"}  ${where({ ...node.callFrame, lineNumber: line - 1 })}`, t);
      ticks += t;
    }
  }
  const samples = profile.samples.length;
  if (ticks > 0) {
    console.log(`\nhottest lines (share of all ${samples} samples):`);
    for (const [k, v] of rank(byLine).slice(0, Math.min(top, 15))) console.log(`  ${((100 * v) / samples).toFixed(1).padStart(5)}%  ${k}`);
  }
}
console.log("\nby file:");
for (const [k, v, pct] of rank(byFile).slice(0, 12)) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${heap ? `${(v / 2 ** 20).toFixed(1)} MiB` : `${(v / 1000).toFixed(0)} ms`}  ${k}`);
const older = readdirSync(dir).length;
if (older > 20) console.log(`\n(${older} profiles in ${relative(process.cwd(), dir)}: delete the old ones when done)`);

// One measured run of one variant of one workload, in a fresh process (so RSS and JIT state never
// leak between runs). Usage: node src/child.ts <workload> <variant> <round>, parameters in
// BENCH_PARAMS (JSON). The result is one line on stdout: RESULT_MARKER + JSON.
import { loadWorkload } from "./registry.ts";
import { AllocationMeter, MiB, RssSampler, cpuSecondsSince, flatness, peakRssMiB } from "./measure.ts";
import { RESULT_MARKER } from "./runner.ts";
import type { Params, RunResult } from "./workload.ts";

const [id, variant, round] = process.argv.slice(2);
const workload = id === undefined ? undefined : await loadWorkload(id);
if (workload === undefined || variant === undefined || !workload.variants.includes(variant)) {
  console.error(`usage: node src/child.ts <workload> <variant> <round> (got ${process.argv.slice(2).join(" ")})`);
  process.exit(2);
}
const params = JSON.parse(process.env.BENCH_PARAMS ?? "{}") as Params;

const sampler = new RssSampler(100);
const allocation = new AllocationMeter();
const cpu = process.cpuUsage();
const start = performance.now();
const output = await workload.run(variant, params);
const seconds = (performance.now() - start) / 1000;
const cpuSeconds = cpuSecondsSince(cpu);
const timeline = sampler.stop();
const gc = allocation.stop();
const peak = Math.max(peakRssMiB(), ...timeline.map(([, rss]) => rss));

const after = (await output.after?.()) ?? {};
const bytes = output.bytes ?? null;
const result: RunResult = {
  workload: workload.id,
  variant,
  round: Number(round ?? 0),
  events: output.events,
  bytes,
  seconds,
  eventsPerSecond: output.events / seconds,
  mbPerSecond: bytes === null ? null : bytes / 1e6 / seconds,
  cpuSeconds,
  cpuSecondsPerMillion: (cpuSeconds / output.events) * 1e6,
  peakRssMiB: peak,
  allocatedBytesPerEvent: gc.allocatedBytes / output.events,
  rssTimeline: timeline.map(([t, rss, heap]) => [Math.round(t * 1000) / 1000, Math.round(rss * 10) / 10, Math.round(heap * 10) / 10]),
  check: after.check ?? output.check ?? null,
  extra: {
    ...output.extra,
    ...after.extra,
    startRssMiB: timeline[0]![1],
    scavenges: gc.scavenges,
    fullCollections: gc.fullCollections,
    gcPauseMs: gc.gcPauseMs,
    rssFlatness: flatness(timeline),
    heapUsedMiBAtEnd: process.memoryUsage().heapUsed / MiB,
  },
};
process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
// a workload may leave handles (timers, streams) behind: the result is out, so end here
process.exit(0);

// Measurement in the child: wall time, CPU (user + system, every thread of the process) and RSS.

import { GCProfiler } from "node:v8";

export const MiB = 1024 * 1024;

/**
 * Bytes the JS heap allocated while it ran, from V8's GC reports: what each collection found in use
 * minus what the previous one left, plus the growth since the last one. Also counts collections.
 */
export class AllocationMeter {
  readonly #profiler = new GCProfiler();
  readonly #startUsed = process.memoryUsage().heapUsed;

  constructor() {
    this.#profiler.start();
  }

  stop(): { allocatedBytes: number; scavenges: number; fullCollections: number; gcPauseMs: number } {
    const endUsed = process.memoryUsage().heapUsed;
    const report = this.#profiler.stop();
    let allocated = 0;
    let previous = this.#startUsed;
    let scavenges = 0;
    let full = 0;
    let pause = 0;
    for (const gc of report?.statistics ?? []) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
      previous = gc.afterGC.heapStatistics.usedHeapSize;
      if (gc.gcType === "Scavenge" || gc.gcType === "MinorMarkSweep") scavenges++;
      else full++;
      pause += gc.cost / 1000;
    }
    allocated += Math.max(0, endUsed - previous);
    return { allocatedBytes: allocated, scavenges, fullCollections: full, gcPauseMs: pause };
  }
}

/** [seconds since start, RSS MiB, V8 heap used MiB]. */
export type Sample = [number, number, number];

/**
 * Samples RSS and the V8 heap in use on a timer (it only fires while the event loop turns: the
 * peak of sync loops is covered by maxRSS).
 */
export class RssSampler {
  readonly timeline: Sample[] = [];
  readonly #start = performance.now();
  #timer: NodeJS.Timeout;

  constructor(periodMs = 100) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), periodMs);
    this.#timer.unref();
  }

  #sample(): void {
    const m = process.memoryUsage();
    this.timeline.push([(performance.now() - this.#start) / 1000, m.rss / MiB, m.heapUsed / MiB]);
  }

  stop(): Sample[] {
    clearInterval(this.#timer);
    this.#sample();
    return this.timeline;
  }
}

/** The process's RSS high-water mark (kernel-tracked), in MiB. */
export function peakRssMiB(): number {
  return (process.resourceUsage().maxRSS * 1024) / MiB;
}

/** Seconds of CPU since `from` (user + system). */
export function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Flatness {
  /** Highest RSS over 20–60% of the run and over 60–100% (after a warm-up while the heap finds its size). */
  earlyMaxMiB: number;
  lateMaxMiB: number;
  /** lateMax − earlyMax: peaks, so the GC's sawtooth does not read as growth. Null for runs under 2 s. */
  growthMiB: number | null;
  /** Lowest V8 heap in use over the same windows: the live set after collections (a leak raises it). */
  earlyHeapFloorMiB: number;
  lateHeapFloorMiB: number;
  heapFloorGrowthMiB: number | null;
}

export function flatness(timeline: Sample[]): Flatness {
  const end = timeline.at(-1)?.[0] ?? 0;
  let early = 0;
  let late = 0;
  let earlyFloor = Infinity;
  let lateFloor = Infinity;
  for (const [t, rss, heap] of timeline) {
    if (t < end * 0.2) continue;
    if (t <= end * 0.6) {
      early = Math.max(early, rss);
      earlyFloor = Math.min(earlyFloor, heap);
    } else {
      late = Math.max(late, rss);
      lateFloor = Math.min(lateFloor, heap);
    }
  }
  const judged = end >= 2 && Number.isFinite(earlyFloor) && Number.isFinite(lateFloor);
  return {
    earlyMaxMiB: early,
    lateMaxMiB: late,
    growthMiB: judged ? late - early : null,
    earlyHeapFloorMiB: judged ? earlyFloor : 0,
    lateHeapFloorMiB: judged ? lateFloor : 0,
    heapFloorGrowthMiB: judged ? lateFloor - earlyFloor : null,
  };
}

// Settings from the environment, so a quick smoke run is one variable away.

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not '${raw}'`);
  return value;
}

/** Multiplies every workload's event count (1 = the full run; 0.02 = a smoke run). */
export const SCALE = num("BENCH_SCALE", 1);
/** Rounds per workload; each round runs every variant once, alternating. */
export const ROUNDS = Math.round(num("BENCH_ROUNDS", 3));
/** Only these workloads (comma-separated ids), e.g. BENCH_ONLY=w1,w3. */
export const ONLY = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter((s) => s !== "");
/** Exit non-zero when a target is missed (off by default: a slow machine is not a broken build). */
export const STRICT = process.env.BENCH_STRICT === "1";
/** Seed of every generated input. */
export const SEED = Math.round(num("BENCH_SEED", 20250101));

export function scaled(events: number): number {
  return Math.max(1, Math.round(events * SCALE));
}

// The parent's side: prepares a workload's inputs, runs each variant in its own child process and
// reads back the result line.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scaled } from "./config.ts";
import type { Params, RunResult, Workload } from "./workload.ts";

export const RESULT_MARKER = "@@bench-result@@";
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHILD = join(BENCH_DIR, "src", "child.ts");

/** Where inputs and outputs go: BENCH_TMPDIR, else tmpfs when there is one (disk noise would swamp the ratios), else the OS temp dir. */
export function scratchRoot(): string {
  if (process.env.BENCH_TMPDIR) return process.env.BENCH_TMPDIR;
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/** Why a workload cannot run here, or undefined. */
export function skipReason(workload: Workload): string | undefined {
  if (workload.requires !== undefined && !process.env[workload.requires]) {
    return `${workload.requires} is not set (start the server: tooling/servers/servers.sh up; eval "$(tooling/servers/servers.sh env)")`;
  }
  return workload.todo;
}

export interface Prepared {
  params: Params;
  cleanup: () => Promise<void>;
}

export async function prepare(workload: Workload): Promise<Prepared> {
  const dir = await mkdtemp(join(scratchRoot(), `pump-bench-${workload.id}-`));
  const events = scaled(workload.events);
  const extra = workload.prepare === undefined ? {} : await workload.prepare(events, dir);
  const params = { events, ...extra };
  return {
    params,
    cleanup: async () => {
      try {
        await workload.cleanup?.(params);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs one variant once in a fresh `node`, with the workload's own node options; `nodeArgs` go after them (e.g. --cpu-prof). */
export function runChild(workload: Workload, variant: string, round: number, params: Params, nodeArgs: string[] = []): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(workload.nodeArgs ?? []), ...nodeArgs, CHILD, workload.id, variant, String(round)], {
      env: { ...process.env, BENCH_PARAMS: JSON.stringify(params) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (data: string) => (out += data));
    child.on("error", reject);
    child.on("close", (code, sig) => {
      const line = out.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      for (const other of out.split("\n")) if (other !== "" && !other.startsWith(RESULT_MARKER)) process.stderr.write(`  [${workload.id}/${variant}] ${other}\n`);
      if (code !== 0 || line === undefined) {
        reject(new Error(`${workload.id}/${variant} round ${round}: the child exited with ${sig ?? code} and no result`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as RunResult);
    });
  });
}

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../src/index.js";

export const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
export const BIN = join(PACKAGE_DIR, "dist", "bin.js");
export const FIXTURES = join(PACKAGE_DIR, "test", "fixtures");

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export async function runProcess(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  const child = spawn(command, args, { cwd: options.cwd ?? PACKAGE_DIR, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** Runs the `pump` bin (from dist/) to its end. */
export function runPump(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  return runProcess(process.execPath, [BIN, ...args], options);
}

/** A process still running, with what it printed so far. */
export interface Running {
  child: ChildProcessWithoutNullStreams;
  output: { stdout: string; stderr: string };
  /** Resolves once `test` holds for the output (rejects if the process ends first). */
  until(test: (output: { stdout: string; stderr: string }) => boolean): Promise<void>;
  exit(): Promise<number | null>;
}

export function startPump(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? PACKAGE_DIR, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let wake: (() => void) | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
    wake?.();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
    wake?.();
  });
  return {
    child,
    output,
    async until(test) {
      while (!test(output)) {
        const changed = new Promise<void>((resolve) => (wake = resolve));
        const ended = await Promise.race([changed.then(() => false), exited.then(() => true)]);
        if (ended && !test(output)) throw new Error(`pump exited before the expected output:\n${output.stdout}\n${output.stderr}`);
      }
    },
    exit: () => exited,
  };
}

/** Runs `main()` in this process, capturing what it writes. */
export async function runMain(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

/** A fresh directory with the given files (paths relative to it). */
export function tempProject(files: Readonly<Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "pump-cli-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

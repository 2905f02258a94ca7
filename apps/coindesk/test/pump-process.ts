// Runs a pump as a child process and collects its output; the apps' tests share it (`@pump/app-coindesk/testing`).
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { afterEach } from "vitest";

/**
 * Steps to undo after each test of the file, the last first: `const defer = deferrals();` at the top,
 * then `defer(() => server.close())` where the thing is made.
 */
export function deferrals(): (step: () => unknown) => void {
  const steps: (() => unknown)[] = [];
  afterEach(async () => {
    for (const step of steps.splice(0).toReversed()) await step();
  });
  return (step) => void steps.push(step);
}

/**
 * `const pump = pumpsIn(dir)`: `pump(args, env?)` starts `node <args>` in `dir` as a child process; one a
 * test left running is killed after the test.
 */
export function pumpsIn(cwd: string): (args: string[], env?: NodeJS.ProcessEnv) => PumpProcess {
  const running = new Set<PumpProcess>();
  afterEach(async () => {
    for (const child of running) await child.stop("SIGKILL");
    running.clear();
  });
  return (args, env) => {
    const child = new PumpProcess(cwd, args, env);
    running.add(child);
    return child;
  };
}

/** A pump run as a child process (`node <args>` in `cwd`), its output collected. */
export class PumpProcess {
  stdout = "";
  stderr = "";
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly #exited: Promise<unknown[]>;

  constructor(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.#exited = once(this.child, "exit");
    this.child.stdout.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Polls until `done()` is true; fails if the pump exits first. */
  async waitFor(what: string, done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.child.exitCode !== null) throw new Error(`the pump exited (${this.child.exitCode}) before ${what}:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` and resolves the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exit();
  }

  /** Resolves the exit code once the pump exited by itself. */
  async exit(): Promise<number | null> {
    await this.#exited;
    return this.child.exitCode;
  }
}

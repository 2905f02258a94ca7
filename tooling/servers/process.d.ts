import type { ChildProcess } from "node:child_process";

/** A child process running a pump script (`node <script> ...args`), its stdout lines kept. */
export declare class PumpProcess {
  /** `script`: an absolute path; `env` goes over the test's own environment. */
  constructor(script: string, env: Record<string, string>, args?: string[]);
  readonly child: ChildProcess;
  readonly lines: string[];
  /** The exit code, or null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** The last 20 000 characters of stderr (for failure messages). */
  readonly stderr: string;
  /** The rest of the last stdout line that starts with `prefix`. */
  last(prefix: string): string | undefined;
  /** Sends `signal` unless it has exited. */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Builds a package's dist/ (its tsconfig.build.json) when a source is newer than the build, for the
 * tests that run pumps importing the built package. `entry`: the file that must exist (dist/index.js).
 */
export declare function buildPackage(packageRoot: string | URL, entry?: string): void;

/** The code of the first ```language block after the line `after` (a heading) in a Markdown text; throws when there is none. */
export declare function codeBlock(markdown: string, language: string, after: string): string;

/**
 * Node's `--import` argument (`node --import <it> script.ts`) that runs a TypeScript script against the
 * sources of the package at `packageRoot`: its own name resolves to its src/index.ts.
 */
export declare function sourceImport(packageRoot: string | URL): string;

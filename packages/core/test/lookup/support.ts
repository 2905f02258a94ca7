// Shared by the lookup tests: temporary files, applications with a config, a clock the test moves,
// and an in-memory lookup provider registered under "mem:".
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import { ConfigFile, PumpApplication } from "../../src/index.js";
import { BatchLookupProvider, registerLookupProvider, type Lookup, type LookupProviderOptions } from "../../src/lookup/index.js";

export interface TempDir {
  dir: string;
  /** Writes a file (an object is written as JSON) and returns its path. */
  write(name: string, content: string | object): string;
  remove(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), "pump-lookup-"));
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An application reading `conf` as its configuration file. */
export function appWith(conf = ""): PumpApplication {
  return new PumpApplication({ args: [], config: ConfigFile.parse(conf, "<test.conf>") });
}

/** Makes `app.time()` return `clock.now` (epoch seconds), which the test moves. */
export function clockOf(app: PumpApplication, now = 1_000_000): { now: number } {
  const clock = { now };
  vi.spyOn(app, "time").mockImplementation(() => clock.now);
  return clock;
}

/** What "mem:<name>" URLs load: the test sets `memory.set(name, bytes | undefined)`; a thrown Error is thrown by load(). */
export const memory = new Map<string, string | Error | undefined>();
/** How many times each "mem:" source was loaded. */
export const memoryLoads = new Map<string, number>();
/** While a source has a gate, its loads wait for it. */
export const memoryGates = new Map<string, Promise<void>>();

export class MemoryProvider extends BatchLookupProvider {
  readonly name: string;

  constructor(lookup: Lookup<unknown, unknown>, url: string, options: LookupProviderOptions) {
    super(lookup, url, options);
    this.name = url.slice("mem:".length);
  }

  async load(): Promise<Uint8Array | undefined> {
    memoryLoads.set(this.name, (memoryLoads.get(this.name) ?? 0) + 1);
    const data = memory.get(this.name); // read when the load begins, answered when the gate (if any) opens
    await memoryGates.get(this.name);
    if (data instanceof Error) throw data;
    return data === undefined ? undefined : new TextEncoder().encode(data);
  }
}

/** Registers MemoryProvider for "mem:" (idempotent: the same factory every time). */
export function useMemoryProvider(): void {
  registerLookupProvider("mem:", memoryFactory);
}

const memoryFactory = (lookup: Lookup<unknown, unknown>, url: string, options: LookupProviderOptions) => new MemoryProvider(lookup, url, options);

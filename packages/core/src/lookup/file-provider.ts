import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Lookup } from "./lookup.js";
import { BatchLookupProvider, type LookupProviderOptions } from "./provider.js";

/** The sha1 hex digest of the data: the ETag BSPump's lookup endpoint gives a serialized lookup. */
export function etagOf(data: Uint8Array): string {
  return createHash("sha1").update(data).digest("hex");
}

/**
 * Loads a lookup from a file (BSPump's FileBatchLookupProvider): the whole file, as bytes. A path
 * that is not a file, cannot be read or fails to read is a warning and `undefined` — the lookup keeps
 * what it has — not an error. The warning is logged when the problem appears; while it lasts, each
 * further attempt logs at debug level only. `etag` is the sha1 of the content last read.
 */
export class FileBatchLookupProvider extends BatchLookupProvider {
  /** The absolute path (a relative `url` is resolved against the working directory at construction). */
  readonly path: string;
  #problem: string | undefined;

  constructor(lookup: Lookup<unknown, unknown>, path: string, options?: LookupProviderOptions) {
    super(lookup, path, options);
    this.path = resolve(path);
  }

  async load(): Promise<Uint8Array | undefined> {
    let data: Buffer;
    try {
      if (!(await stat(this.path)).isFile()) return this.#failed("is not a file");
      data = await readFile(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return this.#failed("does not exist");
      if (code === "EACCES" || code === "EPERM") return this.#failed("is not readable (insufficient permissions)");
      return this.#failed(`failed to read: ${(error as Error).message}`);
    }
    this.#problem = undefined;
    this.etag = etagOf(data);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Writes the data to the file, creating its directory (a master saving what it serves). */
  async save(data: Uint8Array): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(this.path, data);
    this.etag = etagOf(data);
  }

  #failed(problem: string): undefined {
    const level = problem === this.#problem ? "debug" : "warn";
    this.#problem = problem;
    this.log[level](`Lookup source '${this.path}' ${problem}`, { path: this.path });
    return undefined;
  }
}

import { createReadStream } from "node:fs";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, delimiter, join, resolve } from "node:path";
import { pipeline as pipe } from "node:stream";
import { createGunzip } from "node:zlib";
import {
  ConfigError,
  DELIVERY,
  Delivery,
  TriggerSource,
  isStopSignal,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
  type ComponentOptions,
} from "@pump/core";
import { FileReadError, type FileRecordError } from "./errors.js";
import { exists, fnmatchRegExp, glob } from "./glob.js";
import { Decoder } from "./text.js";

/** What a file source puts beside each event. */
export interface FileContext extends Context {
  /** The file's path as the glob found it (not its `-locked` name), as BSPump's `context['filename']`. */
  filename: string;
  /** 1-based line where the event starts; absent for a whole-file block. */
  line?: number | undefined;
}

/** BSPump's `post`: what happens to a file once all its events are settled. */
export type PostAction = "move" | "delete" | "noop";

const SKIPPED_SUFFIXES = ["-locked", "-failed", "-processed"];

/** Locked files (absolute paths) held by the file sources of this process: recovery leaves those of running sources alone. */
const HELD_IN_PROCESS = new Map<string, { readonly running: boolean }>();

/** How reading one file ended. */
type ReadState = "reading" | "read" | "incomplete" | "failed";

/**
 * One file a source is reading or has read and waits on: the open handle, how far it was read, and
 * the deliveries of its events still unsettled. The file is post-processed when it was read to its
 * end and every delivery settled.
 */
export class FileInput {
  /** The path as found (BSPump's `filename`). */
  readonly filename: string;
  /** The path it is read from while locked: `<filename>-locked`. */
  readonly path: string;
  readonly handle: FileHandle;
  /** Bytes read so far (decompressed bytes for `.gz`). */
  bytesRead = 0;
  /** Events handed to the pipeline. */
  events = 0;
  /** Records reported as malformed. */
  malformed = 0;
  /** Batches whose deliveries are not all settled. */
  outstanding = 0;
  state: ReadState = "reading";
  /** Why reading failed (the file becomes `-failed`). */
  failure: unknown = undefined;
  /** The first failed delivery (the file is put back to be read again). */
  deliveryError: unknown = undefined;
  finalized = false;
  readonly #chunkSize: number;

  constructor(filename: string, path: string, handle: FileHandle, chunkSize: number) {
    this.filename = filename;
    this.path = path;
    this.handle = handle;
    this.#chunkSize = chunkSize;
  }

  /**
   * The file's bytes, one read buffer at a time. A plain file is read until a read returns nothing,
   * so what is appended while it is read is read too; `.gz` files are decompressed. `size` defaults to
   * the source's `read_buffer_size`.
   */
  async *chunks(size = this.#chunkSize): AsyncGenerator<Buffer> {
    if (this.filename.endsWith(".gz")) {
      const gunzip = createGunzip({ chunkSize: size });
      const raw = createReadStream("", { fd: this.handle, highWaterMark: size, autoClose: false });
      pipe(raw, gunzip, () => {}); // errors reach the iteration through gunzip
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          this.bytesRead += chunk.length;
          yield chunk;
        }
      } finally {
        gunzip.destroy();
        raw.destroy();
      }
      return;
    }
    for (;;) {
      const buffer = Buffer.allocUnsafeSlow(size); // a new one each time: events may keep slices of it
      const { bytesRead } = await this.handle.read(buffer, 0, size, this.bytesRead);
      if (bytesRead === 0) return;
      this.bytesRead += bytesRead;
      yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
    }
  }
}

/** Counts of what a source did, for `restGet()` and tests. */
export interface FileSourceStats {
  /** Files locked and read (or being read). */
  opened: number;
  /** Files post-processed after every event settled. */
  processed: number;
  /** Files renamed `-failed` because they could not be read. */
  failed: number;
  /** Files put back under their name to be read again (a delivery failed, or the source stopped mid-file). */
  returned: number;
  /** `-locked` files of a pump that stopped before they were done, put back at start. */
  recovered: number;
  events: number;
  malformed: number;
}

/**
 * BSPump's FileABCSource: a TriggerSource that, per cycle, finds files by the glob(s) in `path`, locks
 * each by renaming it `<name>-locked`, reads it in chunks (one `processBatch` per chunk, so a file larger
 * than memory streams through), and post-processes it (`post`: move → `<name>-processed` or into
 * `move_destination`, delete, noop) only once every event it produced is settled. A file whose
 * events failed, or whose reading was cut short by a stop, goes back under its name and is read again;
 * one that cannot be read becomes `<name>-failed`. Subclasses turn chunks into events in `read()`.
 */
export abstract class FileABCSource<Out = unknown> extends TriggerSource<Out> {
  static override ConfigDefaults: ConfigValues = {
    path: "", // glob(s), "**" recursive; several separated by ":" (";" on Windows)
    mode: "rb", // "rb": events are bytes; "r": text decoded with `encoding`
    post: "move", // move | delete | noop
    exclude: "", // fnmatch on the whole path; wins over include
    include: "",
    encoding: "", // "" = utf-8
    move_destination: "", // folder for post=move (created if missing); "" = rename in place
    files_per_cycle: 1, // as BSPump: one file per cycle; 0 = every file found
    read_buffer_size: 65536, // bytes per read, and so per batch
    max_record_size: 16 * 1024 * 1024, // a longer line or record is reported and skipped
    recover_locked: true, // at start, put back `-locked` files a stopped pump left behind
  };

  readonly paths: readonly string[];
  readonly post: PostAction;
  readonly moveDestination: string | undefined;
  readonly text: boolean;
  readonly decoder: Decoder;
  readonly filesPerCycle: number;
  readonly readBufferSize: number;
  readonly maxRecordSize: number;
  readonly stats: FileSourceStats = { opened: 0, processed: 0, failed: 0, returned: 0, recovered: 0, events: 0, malformed: 0 };
  readonly #include: RegExp | undefined;
  readonly #exclude: RegExp | undefined;
  readonly #recoverLocked: boolean;
  /** Files this source holds locked, by their locked path. */
  readonly #held = new Map<string, FileInput>();
  readonly #finalizing = new Set<Promise<void>>();
  #current: FileInput | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const config = this.config;
    this.paths = config
      .get("path")
      .split(delimiter)
      .map((p) => p.trim())
      .filter((p) => p !== "");
    const post = config.get("post").trim().toLowerCase();
    if (post === "move" || post === "delete" || post === "noop") this.post = post;
    else {
      this.log.warn("Unknown 'post' value: files are moved", { post });
      this.post = "move";
    }
    const destination = config.get("move_destination").trim();
    this.moveDestination = destination === "" ? undefined : destination;
    const include = config.get("include");
    const exclude = config.get("exclude");
    this.#include = include === "" ? undefined : fnmatchRegExp(include);
    this.#exclude = exclude === "" ? undefined : fnmatchRegExp(exclude);
    this.text = !config.get("mode").includes("b");
    try {
      this.decoder = new Decoder(config.get("encoding"));
    } catch (error) {
      throw new ConfigError(error instanceof Error ? error.message : String(error), { section: config.section, key: "encoding" }, "PUMP_CONFIG_VALUE");
    }
    this.filesPerCycle = positive(config, "files_per_cycle", true);
    this.readBufferSize = positive(config, "read_buffer_size", false);
    this.maxRecordSize = positive(config, "max_record_size", false);
    this.#recoverLocked = config.getBool("recover_locked");
  }

  /**
   * Turns the file's chunks (`file.chunks()`) into events, handing them over with `emit()` and
   * reporting bad records with `malformed()`. Returning means the file was read to its end; setting
   * `file.failure` (or throwing) means it could not be.
   */
  protected abstract read(file: FileInput): Promise<void>;

  /**
   * Hands a batch of the file's events to the pipeline (waiting while it is not ready), with one
   * Delivery for the batch whose settlement counts down the file. `lines[i]` is event i's line.
   */
  protected async emit(file: FileInput, events: Out[], lines?: readonly (number | undefined)[]): Promise<void> {
    const n = events.length;
    if (n === 0) return;
    const delivery = new Delivery<FileInput>(this.#settled, file);
    if (n > 1) delivery.hold(n - 1);
    file.outstanding++;
    const contexts: FileContext[] = [];
    for (let i = 0; i < n; i++) contexts.push({ filename: file.filename, line: lines?.[i], [DELIVERY]: delivery });
    try {
      await this.processBatch(events, contexts);
    } catch (error) {
      // processBatch rejects only before it took the batch (the pipeline is stopping): nobody else will settle it.
      for (let i = 0; i < n; i++) delivery.fail(error);
      throw error;
    }
    file.events += n;
    this.stats.events += n;
  }

  /**
   * Reports a record that cannot become an event through the pipeline's error handling
   * (`pipeline.setError` with the file and line in the context and the raw record as the event): a
   * soft `handleError` counts a warning and reading goes on; a hard one stops the pipeline, and the
   * next `emit()` waits until the error is cleared. With an error route, the record is sent there and
   * the file waits for it to be settled too.
   */
  protected malformed(file: FileInput, error: FileRecordError, raw: unknown): void {
    file.malformed++;
    this.stats.malformed++;
    const delivery = new Delivery<FileInput>(this.#settled, file);
    file.outstanding++;
    const context: FileContext = { filename: file.filename, line: error.line, [DELIVERY]: delivery };
    this.pipeline.setError(context, raw, error, this);
    delivery.done(); // the source's own share: the record was reported (a route holds its own)
  }

  override async main(): Promise<void> {
    if (this.#recoverLocked) await this.#recover();
    return super.main();
  }

  async cycle(): Promise<void> {
    const files = await this.scan(this.filesPerCycle);
    if (files.length === 0) {
      this.pipeline.pubsub.publish("bspump.file_source.no_files!", this.pipeline);
      return;
    }
    for (const filename of files) {
      await this.pipeline.ready();
      await this.#readFile(filename);
    }
  }

  /** Up to `limit` (0 = all) files to read, in the order of the globs, each sorted; locked, failed, processed and filtered names skipped. */
  async scan(limit = 0): Promise<string[]> {
    const found: string[] = [];
    for (const pattern of this.paths) {
      for (const entry of await glob(pattern)) {
        const name = entry.path;
        if (!entry.isFile || SKIPPED_SUFFIXES.some((suffix) => name.endsWith(suffix))) continue;
        if (this.#exclude?.test(name) === true) continue;
        if (this.#include !== undefined && !this.#include.test(name)) continue;
        if (!found.includes(name)) found.push(name);
        if (limit > 0 && found.length >= limit) return found;
      }
    }
    return found;
  }

  /** Resolves when every file read so far has been post-processed or put back. */
  async idle(): Promise<void> {
    while (this.#finalizing.size > 0) await Promise.allSettled(this.#finalizing);
  }

  /** Files read or being read whose events are not all settled yet. */
  get pendingFiles(): number {
    return this.#held.size;
  }

  async #readFile(filename: string): Promise<void> {
    const locked = `${filename}-locked`;
    try {
      await rename(filename, locked);
    } catch (error) {
      if (code(error) === "ENOENT") this.log.warn("Cannot lock file: not found", { filename });
      else this.log.warn("Cannot lock file: will try again", { filename, error });
      return;
    }
    let handle: FileHandle;
    try {
      handle = await open(locked, "r");
    } catch (error) {
      this.log.warn("Cannot open file: will try again", { filename, error });
      await this.#putBack(filename, locked);
      return;
    }
    const file = new FileInput(filename, locked, handle, this.readBufferSize);
    this.#held.set(locked, file);
    HELD_IN_PROCESS.set(resolve(locked), this);
    this.#current = file;
    this.stats.opened++;
    this.log.debug("Processing file", { filename });
    try {
      await this.read(file);
      file.state = file.failure === undefined ? "read" : "failed";
    } catch (error) {
      if (isStopSignal(error)) {
        file.state = "incomplete";
        throw error;
      }
      file.state = "failed";
      file.failure = error;
    } finally {
      this.#current = undefined;
      await handle.close().catch(() => {});
      if (file.state === "failed") {
        const error = file.failure instanceof FileReadError || isRecordError(file.failure) ? file.failure : new FileReadError(filename, { cause: file.failure });
        this.log.error("Cannot read from file", { filename, error });
      }
      this.#maybeFinalize(file);
    }
  }

  readonly #settled = (delivery: Delivery<FileInput>, error: unknown): void => {
    const file = delivery.token;
    file.outstanding--;
    if (error !== undefined && file.deliveryError === undefined) file.deliveryError = error;
    this.#maybeFinalize(file);
  };

  #maybeFinalize(file: FileInput): void {
    if (file.finalized || file.state === "reading" || file.outstanding > 0) return;
    file.finalized = true;
    const work = this.#finalize(file).finally(() => {
      this.#finalizing.delete(work);
      this.#held.delete(file.path);
      HELD_IN_PROCESS.delete(resolve(file.path));
    });
    this.#finalizing.add(work);
  }

  async #finalize(file: FileInput): Promise<void> {
    const { filename, path } = file;
    try {
      if (file.state === "failed") {
        if (this.post === "noop") await this.#putBack(filename, path);
        else await rename(path, `${filename}-failed`);
        this.stats.failed++;
        return;
      }
      if (file.state === "incomplete" || file.deliveryError !== undefined) {
        this.log.warn(file.state === "incomplete" ? "File not read to its end: it will be read again" : "Events of the file failed: it will be read again", {
          filename,
          error: file.deliveryError,
        });
        await this.#putBack(filename, path);
        return;
      }
      if (this.post === "delete") await unlink(path);
      else if (this.post === "noop") await this.#putBack(filename, path, false);
      else if (this.moveDestination !== undefined) {
        await mkdir(this.moveDestination, { recursive: true });
        await rename(path, join(this.moveDestination, `${basename(filename)}-processed`));
      } else await rename(path, `${filename}-processed`);
      this.stats.processed++;
      this.log.info("File processed", { filename, events: file.events, malformed: file.malformed, post: this.post });
    } catch (error) {
      this.log.error("Cannot finalize file: it stays locked", { filename, error });
    }
  }

  /** Renames a locked file back to its name, unless a new file took that name meanwhile. */
  async #putBack(filename: string, locked: string, count = true): Promise<void> {
    if (await exists(filename)) {
      this.log.warn("Cannot put the file back: a file of that name appeared; it stays locked", { filename });
      return;
    }
    await rename(locked, filename);
    if (count) this.stats.returned++;
  }

  /**
   * Puts back the `-locked` files matching the globs that no running source of this process holds: a
   * pump (or a pipeline) stopped before they were done.
   */
  async #recover(): Promise<void> {
    for (const pattern of this.paths) {
      for (const entry of await glob(`${pattern}-locked`)) {
        if (!entry.isFile || HELD_IN_PROCESS.get(resolve(entry.path))?.running === true) continue;
        const filename = entry.path.slice(0, -"-locked".length);
        if (this.#exclude?.test(filename) === true) continue;
        if (this.#include !== undefined && !this.#include.test(filename)) continue;
        try {
          if (await exists(filename)) continue;
          await rename(entry.path, filename);
          this.stats.recovered++;
          this.log.notice("Put back a file left locked by a pump that stopped before it was done", { filename });
        } catch (error) {
          this.log.warn("Cannot put back a locked file", { filename, error });
        }
      }
    }
  }

  override restGet(): Record<string, unknown> {
    const current = this.#current;
    return {
      ...super.restGet(),
      Path: this.paths,
      Post: this.post,
      Stats: { ...this.stats },
      PendingFiles: this.#held.size,
      Current: current === undefined ? undefined : { filename: current.filename, bytesRead: current.bytesRead, events: current.events },
    };
  }
}

function code(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}

function isRecordError(error: unknown): boolean {
  return error instanceof Error && "filename" in error && "line" in error;
}

function positive(config: FileABCSource["config"], key: string, zeroAllowed: boolean): number {
  const value = config.getInt(key);
  if (value < 0 || (!zeroAllowed && value === 0)) {
    throw new ConfigError(`expected ${zeroAllowed ? "0 or more" : "a positive integer"}, got ${value}`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
  }
  return value;
}


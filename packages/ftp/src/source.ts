import { posix } from "node:path";
import { Writable } from "node:stream";
import { TextDecoder } from "node:util";
import type { Client, FileInfo } from "basic-ftp";
import { FTPError } from "basic-ftp";
import {
  ConfigError,
  DELIVERY,
  Delivery,
  StoppedError,
  TriggerSource,
  isStopSignal,
  type ComponentOptions,
  type ConfigValues,
  type Context,
  type Pipeline,
  type PumpApplication,
} from "@pump/core";
import { FTPConnection, connectionError } from "./connection.js";
import { FTPConnectionError, FTPRecordError, FTPTransferError } from "./errors.js";
import { globRegExp } from "./glob.js";
import { isMalformed, Splitter, type Entry, type FTPFormat, type Item, type Malformed } from "./reader.js";

/** What happens to a remote file once every event it gave was delivered. */
export type FTPPostAction = "noop" | "delete" | "move";

/** What an FTPSource puts beside each event. */
export interface FTPContext extends Context {
  /** The remote path of the file. */
  filename: string;
  /** 1-based line (format `lines`). */
  line?: number | undefined;
}

export interface FTPSourceStats {
  /** Files downloaded (or being downloaded). */
  files: number;
  /** Files post-processed (deleted, moved; or read with `post = noop`) after every event settled. */
  processed: number;
  /** Files left in place because their events failed or their download was cut short. */
  returned: number;
  events: number;
  /** Records reported as malformed (too long, not decodable). */
  malformed: number;
  /** Failed attempts at the server (connection, listing, download), retried after `fail_chilldown`. */
  failures: number;
}

/** A file being read, or read and waiting for its events to be settled. */
class RemoteFile {
  readonly path: string;
  events = 0;
  malformed = 0;
  /** Deliveries not yet settled. */
  outstanding = 0;
  /** Read to its end. */
  complete = false;
  /** The first delivery that failed. */
  failure: unknown = undefined;
  #settled: PromiseWithResolvers<void> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  settle(error: unknown): void {
    this.outstanding--;
    if (error !== undefined && this.failure === undefined) this.failure = error;
    if (this.outstanding === 0) this.#settled?.resolve();
  }

  /** Resolves once every delivery of the file settled. */
  settled(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    this.#settled ??= Promise.withResolvers();
    return this.#settled.promise;
  }
}

/**
 * BSPump's FTPSource: a TriggerSource that, each cycle, lists the remote folder `remote_path` (files
 * only, not recursive) for names matching `glob` (or takes just `filename`), downloads each file and
 * streams it into the pipeline — `lines` (one event per line, "\n" or "\r\n"), `block` (the whole
 * file as one event) or `chunks` (each downloaded piece, as BSPump). Events are Buffers, or strings
 * decoded with `encoding` when it is set. A download waits while the pipeline is not ready (the data
 * connection backs up), so memory stays flat whatever the file's size.
 *
 * Post-processing (`post`, or BSPump's `mode = p` for delete) happens only once every event of the
 * file is settled — a buffering sink confirmed it: `delete` removes the file, `move` renames it into
 * `move_destination` (or to `<name>-processed` beside it, a name the source then skips), `noop` leaves
 * it (BSPump's behaviour: read again next cycle). A file whose events failed, or whose download was
 * cut short by a stop or a broken connection, stays where it is and is read again.
 *
 * A line longer than `max_line_size` or that does not decode is reported through the pipeline's error
 * handling (soft: counted, skipped; the file goes on). A server that cannot be reached, a broken
 * connection or a failed listing is retried after `fail_chilldown` seconds, reconnecting, up to
 * `max_failed_retries` attempts in a row; then the cycle fails (a hard pipeline error by default).
 */
export class FTPSource<Out = Buffer | string> extends TriggerSource<Out> {
  static override ConfigDefaults: ConfigValues = {
    remote_path: "/",
    filename: "", // only this file of remote_path (BSPump)
    glob: "*", // names to take from remote_path; several separated by spaces
    mode: "r", // BSPump: r = read, p = pop (delete once delivered)
    post: "", // noop | delete | move; "" = from mode (r: noop, p: delete)
    move_destination: "", // remote folder for post=move ("" = rename to <name>-processed)
    format: "lines", // lines | block | chunks
    encoding: "", // "" = bytes (Buffer) events; else text in that encoding (utf-8...)
    max_line_size: 1048576, // bytes; a longer line is reported and skipped
    max_block_size: 67108864, // bytes; a larger file in format=block is reported and skipped
    files_per_cycle: 0, // 0 = every file found
    max_failed_retries: 3,
    fail_chilldown: 30, // seconds before trying the server again
  };

  readonly connection: FTPConnection;
  readonly remotePath: string;
  readonly filename: string | undefined;
  readonly post: FTPPostAction;
  readonly moveDestination: string | undefined;
  readonly format: FTPFormat;
  readonly encoding: string | undefined;
  readonly maxLineSize: number;
  readonly maxBlockSize: number;
  readonly filesPerCycle: number;
  readonly maxFailedRetries: number;
  readonly failChilldown: number;
  readonly stats: FTPSourceStats = { files: 0, processed: 0, returned: 0, events: 0, malformed: 0, failures: 0 };
  /** The files of the cycle read to their end and not post-processed yet. */
  #pending: readonly RemoteFile[] = [];
  readonly #glob: RegExp;
  #client: Client | undefined;
  #home: string | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | FTPConnection, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof FTPConnection)) throw new TypeError(`FTPSource '${this.id}': connection '${located.id}' is not an FTPConnection`);
    this.connection = located;
    const config = this.config;
    const at = (key: string): { section: string; key: string } => ({ section: config.section, key });
    this.remotePath = config.get("remote_path").trim() || "/";
    const filename = config.get("filename").trim();
    this.filename = filename === "" ? undefined : filename;
    this.#glob = globRegExp(config.get("glob"));
    const mode = config.get("mode").trim().toLowerCase();
    if (mode !== "r" && mode !== "p") throw new ConfigError(`must be r (read) or p (pop), got '${mode}'`, at("mode"), "PUMP_CONFIG_VALUE");
    const post = config.get("post").trim().toLowerCase() || (mode === "p" ? "delete" : "noop");
    if (post !== "noop" && post !== "delete" && post !== "move") throw new ConfigError(`must be noop, delete or move, got '${post}'`, at("post"), "PUMP_CONFIG_VALUE");
    this.post = post;
    const destination = config.get("move_destination").trim();
    this.moveDestination = destination === "" ? undefined : destination;
    const format = config.get("format").trim().toLowerCase();
    if (format !== "lines" && format !== "block" && format !== "chunks") throw new ConfigError(`must be lines, block or chunks, got '${format}'`, at("format"), "PUMP_CONFIG_VALUE");
    this.format = format;
    const encoding = config.get("encoding").trim();
    this.encoding = encoding === "" || encoding.toLowerCase() === "bytes" ? undefined : encoding;
    if (this.encoding !== undefined) {
      try {
        new TextDecoder(this.encoding).decode(new Uint8Array(0));
      } catch (error) {
        throw new ConfigError(`unknown encoding '${this.encoding}'`, at("encoding"), "PUMP_CONFIG_VALUE", { cause: error });
      }
    }
    const count = (key: string, min: number): number => {
      const value = config.getInt(key);
      if (!(value >= min)) throw new ConfigError(`must be ${min} or more, got ${value}`, at(key), "PUMP_CONFIG_VALUE");
      return value;
    };
    this.maxLineSize = count("max_line_size", 1);
    this.maxBlockSize = count("max_block_size", 1);
    this.filesPerCycle = count("files_per_cycle", 0);
    this.maxFailedRetries = count("max_failed_retries", 1);
    this.failChilldown = config.getSeconds("fail_chilldown");
    if (!(this.failChilldown >= 0)) throw new ConfigError(`must be 0 or more seconds, got ${this.failChilldown}`, at("fail_chilldown"), "PUMP_CONFIG_VALUE");
  }

  override async main(): Promise<void> {
    // A download waiting on the data connection is cut off by closing the client.
    const onStop = (): void => this.#disconnect();
    this.signal.addEventListener("abort", onStop, { once: true });
    try {
      await super.main();
    } finally {
      this.signal.removeEventListener("abort", onStop);
      this.#disconnect();
    }
  }

  async cycle(): Promise<void> {
    let failures = 0;
    // Files read in an earlier attempt of this cycle are not read again in it.
    const done = new Set<string>();
    for (;;) {
      try {
        await this.#cycle(done);
        return;
      } catch (error) {
        if (this.signal.aborted) throw isStopSignal(error) ? error : new StoppedError(`Source '${this.id}'`);
        if (!(error instanceof FTPConnectionError || error instanceof FTPTransferError)) throw error;
        this.#disconnect();
        failures++;
        this.stats.failures++;
        const retriable = error instanceof FTPTransferError || error.retriable;
        if (!retriable || failures >= this.maxFailedRetries) {
          this.log.error(`${error.message}, ${failures} failed attempt(s)`, { server: this.connection.address });
          throw error;
        }
        this.log.warn(`${error.message}, will retry (${failures}/${this.maxFailedRetries}) in ${this.failChilldown} s`, { server: this.connection.address });
        this.pipeline.metrics.warning++;
        await this.sleep(this.failChilldown);
      }
    }
  }

  /** One pass: list, then read and post-process each file not done yet. */
  async #cycle(done: Set<string>): Promise<void> {
    const paths = await this.#list(await this.#connect());
    const pending: RemoteFile[] = [];
    this.#pending = pending;
    try {
      for (const path of paths) {
        if (done.has(path)) continue;
        await this.pipeline.ready();
        const file = await this.#read(await this.#connect(), path);
        if (file === undefined) continue;
        done.add(path);
        pending.push(file);
        // Post-process the files whose events are all settled already, between two downloads.
        await this.#finish(pending, false);
      }
      await this.#finish(pending, true);
    } finally {
      for (const file of pending) {
        this.stats.returned++;
        this.log.warn("File left in place: its events are not all delivered; it will be read again", { filename: file.path });
      }
      pending.length = 0;
    }
  }

  async #connect(): Promise<Client> {
    const current = this.#client;
    if (current !== undefined && !current.closed) return current;
    const client = await this.connection.open();
    this.#client = client;
    try {
      this.#home = await client.pwd();
    } catch (error) {
      throw connectionError(`Cannot work on ${this.connection.address}`, error);
    }
    this.log.debug("Connected", { server: this.connection.address });
    return client;
  }

  #disconnect(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** The remote paths to read this cycle, sorted. */
  async #list(client: Client): Promise<string[]> {
    if (this.filename !== undefined) return [posix.join(this.remotePath, this.filename)];
    let entries: FileInfo[];
    try {
      entries = await client.list(this.remotePath);
    } catch (error) {
      throw this.#failure(this.remotePath, "cannot list", error);
    }
    const names = entries
      .filter((entry) => entry.isFile && this.#glob.test(entry.name) && !entry.name.endsWith("-processed"))
      .map((entry) => entry.name)
      .toSorted();
    const limited = this.filesPerCycle > 0 ? names.slice(0, this.filesPerCycle) : names;
    if (limited.length === 0) this.pipeline.pubsub.publish("bspump.ftp_source.no_files!", this.pipeline);
    return limited.map((name) => posix.join(this.remotePath, name));
  }

  /** A connection problem, or a problem with this file (an FTP reply such as 550). */
  #failure(path: string, what: string, error: unknown): FTPConnectionError | FTPTransferError {
    if (error instanceof FTPError && error.code >= 500 && error.code !== 530) {
      return new FTPTransferError(path, `${what}: ${error.message}`, { cause: error, reply: error.code });
    }
    return connectionError(`${what} '${path}' on ${this.connection.address}`, error);
  }

  /** Downloads one file into the pipeline; undefined when the file vanished (550) before it could be read. */
  async #read(client: Client, path: string): Promise<RemoteFile | undefined> {
    const file = new RemoteFile(path);
    this.stats.files++;
    this.log.debug("Reading file", { filename: path });
    const splitter = new Splitter<Out>(this.format, this.encoding, this.maxLineSize, this.maxBlockSize);
    let failure: unknown;
    const writer = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#emit(file, splitter.take(chunk)).then(
          () => callback(),
          (error: unknown) => {
            failure = error;
            callback(error as Error);
          },
        );
      },
      final: (callback) => {
        this.#emit(file, splitter.end()).then(
          () => callback(),
          (error: unknown) => {
            failure = error;
            callback(error as Error);
          },
        );
      },
    });
    try {
      await client.downloadTo(writer, path);
    } catch (error) {
      this.stats.returned++;
      if (this.signal.aborted) {
        // A stop cut the download short (it closed the client): the file stays to be read again.
        this.log.warn("Stopped in the middle of a file: it stays in place to be read again", { filename: path });
        throw isStopSignal(failure) ? failure : new StoppedError(`Source '${this.id}'`);
      }
      if (failure !== undefined) throw failure;
      if (error instanceof FTPError && error.code === 550 && file.events === 0) {
        this.stats.returned--;
        this.log.warn("File not found or not readable: skipped", { filename: path, reply: `${error.code} ${error.message}` });
        return undefined;
      }
      throw this.#failure(path, "cannot download", error);
    }
    file.complete = true;
    return file;
  }

  /**
   * Hands events over in file order, in batches of at most 1000, each with one delivery counting down
   * the file; a malformed record is reported where it stands (after the events before it were handed over).
   */
  async #emit(file: RemoteFile, entries: Entry<Out>[]): Promise<void> {
    let batch: Item<Out>[] = [];
    for (const entry of entries) {
      if (isMalformed(entry)) {
        await this.#handOver(file, batch);
        batch = [];
        this.#malformed(file, entry);
        continue;
      }
      batch.push(entry);
      if (batch.length === 1000) {
        await this.#handOver(file, batch);
        batch = [];
      }
    }
    await this.#handOver(file, batch);
  }

  async #handOver(file: RemoteFile, batch: Item<Out>[]): Promise<void> {
    if (batch.length === 0) return;
    const delivery = new Delivery<RemoteFile>((d, error) => d.token.settle(error), file);
    if (batch.length > 1) delivery.hold(batch.length - 1);
    file.outstanding++;
    const contexts: FTPContext[] = batch.map((item) => ({ filename: file.path, ...(item.line === undefined ? {} : { line: item.line }), [DELIVERY]: delivery }));
    try {
      await this.processBatch(
        batch.map((item) => item.value),
        contexts,
      );
    } catch (error) {
      // Rejected before the pipeline took the batch (it is stopping): nobody else settles it.
      for (let k = 0; k < batch.length; k++) delivery.fail(error);
      throw error;
    }
    file.events += batch.length;
    this.stats.events += batch.length;
  }

  /**
   * Reports a record that cannot become an event through the pipeline's error handling, with the file
   * and line in the context: soft, it is counted and reading goes on; hard, the pipeline stops and the
   * next batch waits. Its delivery holds the file like an event's (an error route may take it).
   */
  #malformed(file: RemoteFile, { line, problem, raw, cause }: Malformed): void {
    file.malformed++;
    this.stats.malformed++;
    const delivery = new Delivery<RemoteFile>((d, error) => d.token.settle(error), file);
    file.outstanding++;
    const context: FTPContext = { filename: file.path, ...(line === undefined ? {} : { line }), [DELIVERY]: delivery };
    this.pipeline.setError(context, raw, new FTPRecordError(file.path, line, problem, cause === undefined ? undefined : { cause }), this);
    delivery.done();
  }

  /**
   * Post-processes the files, in order, whose events are all settled (`wait`: waits for them); removes
   * them from `pending`. A file whose events failed is left in place.
   */
  async #finish(pending: RemoteFile[], wait: boolean): Promise<void> {
    while (pending.length > 0) {
      const file = pending[0]!;
      if (file.outstanding > 0) {
        if (!wait) return;
        await Promise.race([file.settled(), this.stopped()]);
        if (this.signal.aborted) return;
      }
      if (file.failure !== undefined) {
        pending.shift();
        this.stats.returned++;
        this.log.warn("Events of the file failed: it stays in place to be read again", { filename: file.path, error: file.failure });
        continue;
      }
      await this.#post(file);
      pending.shift();
    }
  }

  /**
   * Deletes or moves a file. The control connection may have been closed by the server while the
   * source waited for the file's deliveries (an idle timeout): then once more on a new connection.
   */
  async #post(file: RemoteFile): Promise<void> {
    try {
      await this.#postOnce(await this.#connect(), file);
    } catch (error) {
      if (!(error instanceof FTPConnectionError && error.retriable)) throw error;
      this.log.debug("Connection lost before post-processing: reconnecting", { filename: file.path, error: error.message });
      this.#disconnect();
      await this.#postOnce(await this.#connect(), file);
    }
  }

  async #postOnce(client: Client, file: RemoteFile): Promise<void> {
    const path = file.path;
    try {
      if (this.post === "delete") await client.remove(path);
      else if (this.post === "move") {
        let target: string;
        if (this.moveDestination === undefined) target = `${path}-processed`;
        else {
          const folder = posix.isAbsolute(this.moveDestination) ? this.moveDestination : posix.join(this.remotePath, this.moveDestination);
          await client.ensureDir(folder);
          if (this.#home !== undefined) await client.cd(this.#home);
          target = posix.join(folder, posix.basename(path));
        }
        await client.rename(path, target);
      }
    } catch (error) {
      throw this.#failure(path, `cannot ${this.post}`, error);
    }
    this.stats.processed++;
    this.log.info("File processed", { filename: path, events: file.events, malformed: file.malformed, post: this.post });
  }

  /** Files read to their end (the server confirmed the transfer) whose events are not all settled yet. */
  get waiting(): number {
    return this.#pending.length;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Server: this.connection.address, RemotePath: this.remotePath, Post: this.post, Format: this.format, Waiting: this.waiting, Stats: { ...this.stats } };
  }
}

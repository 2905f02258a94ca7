import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { ConfigError, Sink, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import { FileWriteError } from "./errors.js";

const FLAGS: Readonly<Record<string, number>> = {
  O_CREAT: constants.O_CREAT,
  O_EXCL: constants.O_EXCL,
  O_TRUNC: constants.O_TRUNC,
  O_APPEND: constants.O_APPEND,
};

/**
 * Writes each event to a file (BSPump's FileBlockSink): opens the file (`O_WRONLY` with `flags`, a
 * comma list of O_CREAT, O_EXCL, O_TRUNC, O_APPEND; a `mode` with "a" adds O_APPEND), writes the event
 * and closes it. With BSPump's default `flags = O_CREAT` the event is written from the start of the file
 * without truncating it. The file is `context.path` when the context has one, else `path`; override
 * `getFileName()` for more. Events are `Buffer`/`Uint8Array` or strings (written as UTF-8). The
 * pipeline waits for each write, so the event's delivery is confirmed once it is in the file.
 */
export class FileBlockSink extends Sink<Uint8Array | string> {
  static override ConfigDefaults: ConfigValues = { path: "", mode: "wb", flags: "O_CREAT" };

  readonly flags: number;

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    let flags = constants.O_WRONLY;
    for (const name of this.config.get("flags").split(",")) {
      const flag = name.trim();
      if (flag === "") continue;
      const value = FLAGS[flag];
      if (value === undefined) throw new ConfigError(`unknown flag '${flag}' (known: ${Object.keys(FLAGS).join(", ")})`, { section: this.config.section, key: "flags" }, "PUMP_CONFIG_VALUE");
      flags |= value;
    }
    if (this.config.get("mode").includes("a")) flags |= constants.O_APPEND;
    this.flags = flags;
  }

  /** The file an event goes to: `context.path`, else the `path` key. */
  getFileName(context: Context, _event: Uint8Array | string): string {
    const path = context.path;
    return typeof path === "string" && path !== "" ? path : this.config.get("path");
  }

  async process(context: Context, event: Uint8Array | string): Promise<void> {
    const filename = this.getFileName(context, event);
    if (filename === "") throw new FileWriteError(undefined, "no file name: set `path` or `context.path`");
    if (typeof event !== "string" && !(event instanceof Uint8Array)) {
      throw new FileWriteError(filename, `an event must be bytes or a string, got ${event === null ? "null" : typeof event}`);
    }
    let handle;
    try {
      handle = await open(filename, this.flags, 0o666);
    } catch (error) {
      throw new FileWriteError(filename, "cannot open", { cause: error });
    }
    try {
      await handle.writeFile(event);
    } catch (error) {
      throw new FileWriteError(filename, "cannot write", { cause: error });
    } finally {
      await handle.close();
    }
  }
}

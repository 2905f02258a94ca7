import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ConfigFile } from "../config/conf-file.js";
import { ConfigError, UsageError } from "../errors.js";
import { Logger, isLogLevel, logging, type LogLevel } from "../logger.js";
import { PubSub } from "../pubsub.js";
import { startWebApi } from "../web/web-server.js";
import { USAGE, parseCommandLine, type CommandLine } from "./cli.js";
import { PumpService } from "./service.js";

export interface PumpApplicationOptions {
  /** The command line; defaults to `process.argv.slice(2)`. */
  args?: readonly string[] | undefined;
  /** A loaded config, used when the command line names no `-c` file. */
  config?: ConfigFile | undefined;
}

const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** BSPump configs name levels as Python does (WARNING, CRITICAL); ours are the lower-case LogLevels. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = { warning: "warn", critical: "error", fatal: "error" };

function logLevel(name: string, file: string | undefined): LogLevel {
  const lower = name.trim().toLowerCase();
  const level = LEVEL_ALIASES[lower] ?? lower;
  if (!isLogLevel(level)) {
    throw new ConfigError(`unknown log level '${name}' (DEBUG, INFO, NOTICE, WARNING or ERROR)`, { file, section: "logging", key: "level" }, "PUMP_CONFIG_VALUE");
  }
  return level;
}

/** Messages published every n seconds besides "Application.tick!", as ASAB does. */
const TICKS = [10, 60, 300, 600, 1800, 3600, 43200, 86400] as const;

/**
 * A pump: reads the command line and the `.conf` file, owns the PumpService with its pipelines,
 * connections and lookups, and runs them until SIGINT/SIGTERM (orderly stop, exit 0; a second signal
 * forces exit). SIGUSR1 clears every pipeline's error. Build pipelines in the constructor of a
 * subclass, or add them to `pumpService` before `run()`.
 */
export class PumpApplication {
  static readonly VERSION = VERSION;

  readonly commandLine: CommandLine;
  readonly config: ConfigFile;
  readonly pubsub: PubSub;
  readonly log: Logger;
  readonly pumpService: PumpService;
  readonly #services = new Map<string, unknown>();
  #stop = Promise.withResolvers<void>();
  #stopRequested = false;
  #exitCode = 0;
  #ticks = 0;

  constructor(options: PumpApplicationOptions = {}) {
    const args = options.args ?? process.argv.slice(2);
    try {
      this.commandLine = parseCommandLine(args);
    } catch (error) {
      if (!(error instanceof UsageError) || options.args !== undefined) throw error;
      process.stderr.write(`${basename(process.argv[1] ?? "pump")}: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    if (this.commandLine.help && options.args === undefined) {
      process.stdout.write(`Usage: ${basename(process.argv[1] ?? "pump")} [options]\n${USAGE}\n`);
      process.exit(0);
    }
    this.config =
      this.commandLine.config !== undefined ? ConfigFile.load(this.commandLine.config) : (options.config ?? ConfigFile.empty());
    if (this.commandLine.webListen !== undefined) this.config.set("web", "listen", this.commandLine.webListen);
    const level = this.commandLine.verbose ? "debug" : this.config.get("logging", "level");
    if (level !== undefined) logging.setLevel(logLevel(level, this.config.files[0]));
    this.log = new Logger("bspump.application");
    this.pubsub = new PubSub(this.log);
    this.pumpService = new PumpService(this);
    this.#services.set("bspump.PumpService", this.pumpService);
  }

  /** BSPump's `app.get_service("bspump.PumpService")`. */
  getService<S = unknown>(name: string): S {
    if (!this.#services.has(name)) throw new UsageError(`No service '${name}' is registered`);
    return this.#services.get(name) as S;
  }

  registerService(name: string, service: unknown): void {
    this.#services.set(name, service);
  }

  /** Epoch seconds (BSPump's `app.time()`). */
  time(): number {
    return Date.now() / 1000;
  }

  /** Runs after the pipelines started; override for work of the application itself. */
  async main(): Promise<void> {}

  /** Asks the pump to stop in order; `run()` then resolves. Calling it again changes nothing. */
  stop(exitCode = 0): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    this.#exitCode = exitCode;
    this.#stop.resolve();
  }

  /** Starts everything, waits for a stop, stops everything; resolves the process exit code. */
  async run(): Promise<number> {
    const onStopSignal = (signal: NodeJS.Signals): void => {
      if (!this.#stopRequested) {
        this.log.notice("Stopping", { signal });
        this.stop(0);
        return;
      }
      this.log.error("Second stop signal: exiting without finishing", { signal });
      process.exit(1);
    };
    const onClearErrors = (): void => {
      for (const pipeline of this.pumpService.pipelines.values()) pipeline.clearError();
    };
    const onHangUp = (): void => this.pubsub.publish("Application.hup!");
    process.on("SIGINT", onStopSignal);
    process.on("SIGTERM", onStopSignal);
    process.on("SIGUSR1", onClearErrors);
    process.on("SIGHUP", onHangUp);
    let ticker: NodeJS.Timeout | undefined;
    try {
      this.log.notice(`@pump/core ${VERSION} (BSPump for Node.js ${process.version})`, { config: this.config.files[0] });
      this.pubsub.publish("Application.init!", this);
      try {
        await this.pumpService.initialize();
      } catch (error) {
        this.log.error("Start-up failed", { error });
        this.stop(1);
      }
      if (!this.#stopRequested) {
        const count = this.pumpService.pipelines.size;
        this.log.notice(`${count} pipeline${count === 1 ? "" : "s"} ready`);
        this.pubsub.publish("Application.run!", this);
        ticker = this.#startTicking();
        this.main().catch((error: unknown) => {
          this.log.error("Application main() failed", { error });
          this.stop(1);
        });
      }
      // The REST API ([web] listen, -w ADDR), loaded only when configured; failing to listen stops the pump (exit 1).
      const web = this.#stopRequested || this.config.get("web", "listen") === undefined ? undefined : await startWebApi(this);
      await this.#stop.promise;
      this.pubsub.publish("Application.stop!", this);
      clearInterval(ticker);
      await this.pumpService.finalize().finally(() => web?.close());
      this.pubsub.publish("Application.exit!", this);
      this.log.notice("Stopped", { exitCode: this.#exitCode });
      return this.#exitCode;
    } finally {
      clearInterval(ticker);
      process.off("SIGINT", onStopSignal);
      process.off("SIGTERM", onStopSignal);
      process.off("SIGUSR1", onClearErrors);
      process.off("SIGHUP", onHangUp);
      this.#stop = Promise.withResolvers<void>();
      this.#stopRequested = false;
    }
  }

  #startTicking(): NodeJS.Timeout {
    const period = Number(this.config.get("general", "tick_period") ?? 1);
    return setInterval(() => this.tick(period), period * 1000);
  }

  /**
   * One tick of the application clock: rates are closed, "Application.tick!" is published, and
   * "Application.tick/N!" when N seconds have passed. Called every `[general] tick_period` seconds
   * while running; a test clock calls it when it advances.
   */
  tick(period = 1): void {
    // Whole seconds passed before and after this tick (to the ms, so 0.1 * 30 counts as 3).
    const before = Math.floor(Math.round(this.#ticks * period * 1000) / 1000);
    this.#ticks++;
    const seconds = Math.floor(Math.round(this.#ticks * period * 1000) / 1000);
    this.pumpService.tick();
    this.pubsub.publish("Application.tick!", this);
    // Once each time a multiple of n seconds is passed, whether the period divides n or not.
    for (const n of TICKS) if (Math.floor(seconds / n) > Math.floor(before / n)) this.pubsub.publish(`Application.tick/${n}!`, this);
  }
}

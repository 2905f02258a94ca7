import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ConfigError,
  ConfigFile,
  Connection,
  Lookup,
  Pipeline,
  Processor,
  PumpApplication,
  PumpService,
  Source,
  USAGE,
  UsageError,
  logging,
  parseCommandLine,
  type Context,
} from "../src/index.js";
import { Boom, UnitTestSink, ListSource, captureLogs, createApp, until } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pump-app-test-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConf(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Applications a test started through the helpers below; stopped after each test even when it failed. */
const runningApps = new Set<PumpApplication>();
afterEach(() => {
  vi.useRealTimers();
  for (const app of runningApps) app.stop();
  runningApps.clear();
});

/** Holds until stopped. */
class Idle extends Source {
  async main(): Promise<void> {
    await this.stopped();
  }
}

function idlePipeline(app: PumpApplication, id: string): Pipeline {
  const p = new Pipeline(app, id);
  p.build(new Idle(app, p), new UnitTestSink(app, p));
  return p;
}

/** Subscribes to the application's lifecycle messages and lists them as they come. */
function lifecycle(app: PumpApplication): string[] {
  const seen: string[] = [];
  for (const m of ["Application.init!", "Application.run!", "Application.stop!", "Application.exit!", "Application.hup!"]) {
    app.pubsub.subscribe(m, (message) => seen.push(message));
  }
  return seen;
}

describe("parseCommandLine", () => {
  it("reads nothing from an empty command line", () => {
    expect(parseCommandLine([])).toEqual({ config: undefined, verbose: false, webListen: undefined, help: false });
  });

  it("reads -c/--config FILE", () => {
    expect(parseCommandLine(["-c", "etc/pump.conf"]).config).toBe("etc/pump.conf");
    expect(parseCommandLine(["--config", "etc/pump.conf"]).config).toBe("etc/pump.conf");
    expect(parseCommandLine(["--config=etc/pump.conf"]).config).toBe("etc/pump.conf");
  });

  it("reads -v, -w ADDR and -h", () => {
    expect(parseCommandLine(["-v"]).verbose).toBe(true);
    expect(parseCommandLine(["--verbose"]).verbose).toBe(true);
    expect(parseCommandLine(["-w", "127.0.0.1:8080"]).webListen).toBe("127.0.0.1:8080");
    expect(parseCommandLine(["--web-api", "0.0.0.0:80"]).webListen).toBe("0.0.0.0:80");
    expect(parseCommandLine(["-h"]).help).toBe(true);
    expect(parseCommandLine(["--help"]).help).toBe(true);
    expect(parseCommandLine(["-v", "-c", "a.conf", "-w", ":8080"])).toEqual({ config: "a.conf", verbose: true, webListen: ":8080", help: false });
  });

  it.each([[["--bogus"]], [["-x"]], [["pump.conf"]], [["-c"]], [["--verbose=yes"]]])("refuses %j with a UsageError", (args) => {
    expect(() => parseCommandLine(args)).toThrow(UsageError);
  });

  it("names the unknown option", () => {
    expect(() => parseCommandLine(["--bogus"])).toThrow(/'--bogus'/);
  });

  it("USAGE lists every option and the signals", () => {
    for (const option of ["-c, --config", "-v, --verbose", "-w, --web-api", "-h, --help", "SIGTERM", "SIGUSR1"]) expect(USAGE).toContain(option);
  });
});

describe("PumpApplication configuration", () => {
  class Configured extends Source {
    static override ConfigDefaults = { batch: 1, name: "default", extra: "from defaults" };
    async main(): Promise<void> {}
  }

  it("loads the -c file: a component's section overrides its ConfigDefaults and the constructor's config", () => {
    const path = writeConf("layers.conf", ["[pipeline:P:Configured]", "batch = 7", "", "[general]", "tick_period = 3", ""].join("\n"));
    const app = new PumpApplication({ args: ["-c", path] });
    expect(app.commandLine.config).toBe(path);
    expect(app.config.files).toEqual([path]);
    expect(app.config.get("general", "tick_period")).toBe("3");
    const source = new Configured(app, new Pipeline(app, "P"), { config: { batch: 3, name: "given" } });
    expect(source.config.getInt("batch")).toBe(7);
    expect(source.config.get("name")).toBe("given");
    expect(source.config.get("extra")).toBe("from defaults");
  });

  it("uses the config given in code when there is no -c", () => {
    const config = ConfigFile.parse("[pipeline:P:Configured]\nname = from code\n");
    const app = new PumpApplication({ args: [], config });
    expect(app.config).toBe(config);
    expect(new Configured(app, new Pipeline(app, "P")).config.get("name")).toBe("from code");
    expect(new PumpApplication({ args: [] }).config.sections()).toEqual([]);
  });

  it("a missing -c file is a ConfigError naming the path", () => {
    const path = join(dir, "no-such.conf");
    let error: unknown;
    try {
      expect(new PumpApplication({ args: ["-c", path] })).toBeUndefined();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("PUMP_CONFIG_FILE");
    expect((error as ConfigError).message).toContain(path);
  });

  it("a bad command line throws a UsageError when args are given in code (no exit)", () => {
    expect(() => new PumpApplication({ args: ["--bogus"] })).toThrow(UsageError);
    const help = new PumpApplication({ args: ["-h"] });
    expect(help.commandLine.help).toBe(true);
  });

  it("-w sets [web] listen over the file's, -v turns on debug logging, [logging] level sets the level", () => {
    const path = writeConf("web.conf", "[web]\nlisten = 0.0.0.0:80\n\n[logging]\nlevel = WARN\n");
    expect(new PumpApplication({ args: ["-c", path] }).config.get("web", "listen")).toBe("0.0.0.0:80");
    expect(logging.level).toBe("warn");
    const app = new PumpApplication({ args: ["-c", path, "-w", "127.0.0.1:8081", "-v"] });
    expect(app.config.get("web", "listen")).toBe("127.0.0.1:8081");
    expect(logging.level).toBe("debug");
  });

  it("reads BSPump's (Python's) level names in [logging] level, and refuses an unknown one", () => {
    for (const [name, level] of [["WARNING", "warn"], ["NOTICE", "notice"], ["DEBUG", "debug"], ["info", "info"], ["ERROR", "error"], ["CRITICAL", "error"]]) {
      const app = new PumpApplication({ args: [], config: ConfigFile.parse(`[logging]\nlevel = ${name}\n`) });
      expect(app.config.get("logging", "level")).toBe(name);
      expect(logging.level).toBe(level);
    }
    const path = writeConf("loud.conf", "[logging]\nlevel = LOUD\n");
    expect(() => new PumpApplication({ args: ["-c", path] })).toThrow(ConfigError);
    expect(() => new PumpApplication({ args: ["-c", path] })).toThrow(/\[logging\] key 'level'.*'LOUD'/);
  });

  it("registers its PumpService as 'bspump.PumpService' and other services by name", () => {
    const app = createApp();
    expect(app.getService<PumpService>("bspump.PumpService")).toBe(app.pumpService);
    expect(() => app.getService("nope")).toThrow(UsageError);
    const mine = { name: "mine" };
    app.registerService("my.Service", mine);
    expect(app.getService("my.Service")).toBe(mine);
    expect(PumpApplication.VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("time() is epoch seconds", () => {
    const app = createApp();
    const before = Date.now() / 1000;
    const t = app.time();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now() / 1000);
  });
});

describe("PumpApplication.run()", () => {
  it("publishes Application.init!, run!, stop!, exit! in order and resolves the exit code", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const seen = lifecycle(app);
      const journal: string[] = [];
      class Journal extends UnitTestSink {
        override start(): void {
          journal.push(`start after ${seen.join(" ")}`);
        }
        override stop(): void {
          journal.push(`stop after ${seen.join(" ")}`);
        }
      }
      const p = new Pipeline(app, "P");
      p.build(new Idle(app, p), new Journal(app, p));
      app.pumpService.addPipeline(p);
      const running = app.run();
      await until(() => seen.includes("Application.run!"), "run!");
      expect(seen).toEqual(["Application.init!", "Application.run!"]);
      expect(p.running).toBe(true);
      app.stop();
      expect(await running).toBe(0);
      expect(seen).toEqual(["Application.init!", "Application.run!", "Application.stop!", "Application.exit!"]);
      // pipelines start between init! and run!, and stop between stop! and exit!
      expect(journal).toEqual(["start after Application.init!", "stop after Application.init! Application.run! Application.stop!"]);
      expect(p.running).toBe(false);
      const notices = logs.records.filter((r) => r.level === "notice" && r.logger === "bspump.application").map((r) => r.message);
      expect(notices).toContain("1 pipeline ready");
      expect(notices.at(-1)).toBe("Stopped");
      expect(notices[0]).toMatch(/^@pump\/core \d+\.\d+\.\d+/);
    } finally {
      logs.restore();
    }
  });

  it("counts its pipelines in the ready line", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      app.pumpService.addPipelines(idlePipeline(app, "A"), idlePipeline(app, "B"));
      const running = app.run();
      await until(() => logs.records.some((r) => r.message === "2 pipelines ready"), "the ready line");
      app.stop();
      expect(await running).toBe(0);
      const none = createApp();
      const nothing = none.run();
      await until(() => logs.records.some((r) => r.message === "0 pipelines ready"), "the ready line of an empty pump");
      none.stop();
      expect(await nothing).toBe(0);
    } finally {
      logs.restore();
    }
  });

  it("calls main() once the pipelines run; stop(code) sets the exit code and a second stop() changes nothing", async () => {
    class App extends PumpApplication {
      sawRunning: boolean | undefined;
      override async main(): Promise<void> {
        this.sawRunning = this.pumpService.pipelines.get("P")?.running;
        this.stop(3);
        this.stop(0);
      }
    }
    const app = new App({ args: [] });
    app.pumpService.addPipeline(idlePipeline(app, "P"));
    expect(await app.run()).toBe(3);
    expect(app.sawRunning).toBe(true);
  });

  it("a main() that rejects stops the pump with exit code 1", async () => {
    const logs = captureLogs();
    try {
      class App extends PumpApplication {
        override async main(): Promise<void> {
          throw new Error("no work today");
        }
      }
      const app = new App({ args: [] });
      expect(await app.run()).toBe(1);
      const record = logs.records.find((r) => r.message === "Application main() failed");
      expect(record?.fields.error).toHaveProperty("message", "no work today");
    } finally {
      logs.restore();
    }
  });

  it("a connection that cannot connect: start-up fails, run() resolves 1, the error is logged, no pipeline runs", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const seen = lifecycle(app);
      class Refused extends Connection {
        disconnected = false;
        override async connect(): Promise<void> {
          throw new Error("ECONNREFUSED 127.0.0.1:9092");
        }
        override async disconnect(): Promise<void> {
          this.disconnected = true;
        }
      }
      const connection = app.pumpService.addConnection(new Refused(app, "Kafka"));
      let mainCalled = false;
      app.main = async () => {
        mainCalled = true;
      };
      const p = app.pumpService.addPipeline(idlePipeline(app, "P"));
      let started = false;
      p.pubsub.subscribe("bspump.pipeline.start!", () => (started = true));
      expect(await app.run()).toBe(1);
      const record = logs.records.find((r) => r.level === "error" && r.message === "Start-up failed");
      expect(record?.fields.error).toHaveProperty("message", "ECONNREFUSED 127.0.0.1:9092");
      expect(started).toBe(false);
      expect(mainCalled).toBe(false);
      expect(seen).toEqual(["Application.init!", "Application.stop!", "Application.exit!"]);
      expect(connection.disconnected).toBe(true);
      expect(logs.records.some((r) => r.message.endsWith("ready"))).toBe(false);
    } finally {
      logs.restore();
    }
  });

  it("an eager lookup that cannot load fails the start-up too", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      class Unloadable extends Lookup {
        async load(): Promise<boolean> {
          throw new Error("no such table");
        }
        get(): undefined {
          return undefined;
        }
      }
      app.pumpService.addLookup(new Unloadable(app, "L"));
      expect(await app.run()).toBe(1);
      expect(logs.records.some((r) => r.message === "Start-up failed" && (r.fields.error as Error).message === "no such table")).toBe(true);
    } finally {
      logs.restore();
    }
  });

  it("can run again after it stopped", async () => {
    const app = createApp();
    const p = app.pumpService.addPipeline(idlePipeline(app, "P"));
    const seen = lifecycle(app);
    const first = app.run();
    await until(() => p.running, "the first start");
    app.stop(4);
    expect(await first).toBe(4);
    const second = app.run();
    await until(() => p.running, "the second start");
    app.stop();
    expect(await second).toBe(0);
    expect(seen.filter((m) => m === "Application.run!")).toHaveLength(2);
  });
});

function countTicks(app: PumpApplication): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of ["Application.tick!", ...[10, 60, 300, 600, 1800, 3600, 43200, 86400].map((n) => `Application.tick/${n}!`)]) {
    app.pubsub.subscribe(m, (message) => counts.set(message, (counts.get(message) ?? 0) + 1));
  }
  return counts;
}

async function runningApp(config: string): Promise<{ app: PumpApplication; running: Promise<number> }> {
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(config) });
  const state = { ran: false };
  app.pubsub.subscribe("Application.run!", () => (state.ran = true));
  const running = app.run();
  runningApps.add(app);
  while (!state.ran) await vi.advanceTimersByTimeAsync(0);
  return { app, running };
}

describe("PumpApplication ticks", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("publishes Application.tick! every tick_period seconds while running, and no more after the stop", async () => {
    vi.useFakeTimers();
    const { app, running } = await runningApp("[general]\ntick_period = 2\n");
    const counts = countTicks(app);
    await vi.advanceTimersByTimeAsync(5_999);
    expect(counts.get("Application.tick!")).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(counts.get("Application.tick!")).toBe(3);
    app.stop();
    expect(await running).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(counts.get("Application.tick!")).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ticks every second by default, with tick/10! and tick/60! as their seconds pass", async () => {
    vi.useFakeTimers();
    const { app, running } = await runningApp("");
    const counts = countTicks(app);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(counts.get("Application.tick!")).toBe(120);
    expect(counts.get("Application.tick/10!")).toBe(12);
    expect(counts.get("Application.tick/60!")).toBe(2);
    expect(counts.get("Application.tick/300!")).toBeUndefined();
    app.stop();
    await running;
  });

  it("publishes tick/10! once per 10 seconds whatever the tick period", async () => {
    vi.useFakeTimers();
    const fast = await runningApp("[general]\ntick_period = 0.25\n");
    const fastCounts = countTicks(fast.app);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fastCounts.get("Application.tick!")).toBe(120);
    expect(fastCounts.get("Application.tick/10!")).toBe(3);
    fast.app.stop();
    await fast.running;

    const slow = await runningApp("[general]\ntick_period = 7\n");
    const slowCounts = countTicks(slow.app);
    await vi.advanceTimersByTimeAsync(70_000);
    expect(slowCounts.get("Application.tick!")).toBe(10);
    expect(slowCounts.get("Application.tick/10!")).toBe(7); // at 14, 21, 35, 42, 56, 63, 70 s: one per 10 s passed
    expect(slowCounts.get("Application.tick/60!")).toBe(1);
    slow.app.stop();
    await slow.running;
  });

  it("tick() closes the pipelines' rate period", () => {
    const app = createApp();
    const p = app.pumpService.addPipeline(idlePipeline(app, "P"));
    const tick = vi.spyOn(p.metrics, "tick");
    app.tick();
    expect(tick).toHaveBeenCalledTimes(1);
  });
});

describe("PumpApplication signals (in process)", () => {
  const SIGNALS = ["SIGINT", "SIGTERM", "SIGUSR1", "SIGHUP"] as const;

  /** Starts run() and returns the signal listeners it installed. */
  async function runWithHandlers(app: PumpApplication): Promise<{ running: Promise<number>; handler: (signal: (typeof SIGNALS)[number]) => (signal: NodeJS.Signals) => void }> {
    const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
    let ran = false;
    app.pubsub.subscribe("Application.run!", () => (ran = true));
    const running = app.run();
    runningApps.add(app);
    await until(() => ran, "run!");
    const handler = (signal: (typeof SIGNALS)[number]): ((signal: NodeJS.Signals) => void) => {
      const added = process.listeners(signal).filter((l) => !before.get(signal)!.has(l));
      expect(added).toHaveLength(1);
      return added[0] as (signal: NodeJS.Signals) => void;
    };
    return { running, handler };
  }

  it("SIGTERM and SIGINT stop in order with exit code 0; the listeners are removed afterwards", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const logs = captureLogs();
      try {
        const counts = SIGNALS.map((s) => process.listenerCount(s));
        const app = createApp();
        const p = app.pumpService.addPipeline(idlePipeline(app, "P"));
        const { running, handler } = await runWithHandlers(app);
        handler(signal)(signal);
        expect(await running).toBe(0);
        expect(p.running).toBe(false);
        expect(logs.records.some((r) => r.message === "Stopping" && r.fields.signal === signal)).toBe(true);
        expect(SIGNALS.map((s) => process.listenerCount(s))).toEqual(counts);
      } finally {
        logs.restore();
      }
    }
  });

  it("a second stop signal during a stuck stop forces process.exit(1)", async () => {
    const logs = captureLogs();
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    try {
      const app = createApp();
      const gate = Promise.withResolvers<void>();
      class SlowStop extends Processor {
        process(_c: Context, event: unknown): unknown {
          return event;
        }
        override async stop(): Promise<void> {
          await gate.promise;
        }
      }
      const p = new Pipeline(app, "P");
      p.build(new Idle(app, p), new SlowStop(app, p), new UnitTestSink(app, p));
      app.pumpService.addPipeline(p);
      const { running, handler } = await runWithHandlers(app);
      const onTerm = handler("SIGTERM");
      onTerm("SIGTERM");
      await until(() => !p.sources[0]!.running, "the stop to begin");
      expect(exit).not.toHaveBeenCalled();
      onTerm("SIGTERM");
      expect(exit).toHaveBeenCalledWith(1);
      expect(logs.records.some((r) => r.level === "error" && r.message.startsWith("Second stop signal"))).toBe(true);
      gate.resolve();
      expect(await running).toBe(0);
    } finally {
      exit.mockRestore();
      logs.restore();
    }
  });

  it("SIGUSR1 clears every pipeline's error and processing resumes", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const make = (id: string): { p: Pipeline; sink: UnitTestSink<string> } => {
        const p = new Pipeline(app, id);
        const source = new ListSource<string>(app, p);
        source.events = ["a", "bad", "c"];
        source.batchSize = 1;
        const sink = new UnitTestSink<string>(app, p);
        p.build(source, new Boom(app, p), sink);
        return { p: app.pumpService.addPipeline(p), sink };
      };
      const one = make("One");
      const two = make("Two");
      const { running, handler } = await runWithHandlers(app);
      await until(() => one.p.isError() && two.p.isError(), "both errors");
      expect(one.sink.events).toEqual(["a"]);
      handler("SIGUSR1")("SIGUSR1");
      expect(one.p.isError()).toBe(false);
      expect(two.p.isError()).toBe(false);
      await until(() => one.sink.events.length === 2 && two.sink.events.length === 2, "c to go through");
      expect(one.sink.events).toEqual(["a", "c"]);
      expect(two.sink.events).toEqual(["a", "c"]);
      app.stop();
      expect(await running).toBe(0);
    } finally {
      logs.restore();
    }
  });

  it("SIGHUP publishes Application.hup!", async () => {
    const app = createApp();
    const seen = lifecycle(app);
    const { running, handler } = await runWithHandlers(app);
    handler("SIGHUP")("SIGHUP");
    expect(seen).toEqual(["Application.init!", "Application.run!", "Application.hup!"]);
    app.stop();
    expect(await running).toBe(0);
  });
});

// Starting a node process is the slow part: a generous bound so a loaded machine does not fail these.
describe("a pump process", { timeout: 30_000 }, () => {
  const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
  const children = new Set<ChildProcess>();

  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    children.clear();
  });

  interface Pump {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    /** Resolves once stdout has the line; rejects if the process ends first. */
    line: (text: string) => Promise<void>;
    exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  }

  function startPump(mode: string, args: string[] = []): Pump {
    const env: NodeJS.ProcessEnv = { ...process.env, PUMP_FIXTURE: mode };
    delete env.NODE_OPTIONS; // not vitest's loaders
    const child = spawn(process.execPath, ["--import", join(fixtures, "ts-resolve.mjs"), join(fixtures, "signal-pump.ts"), ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    let ended = false;
    void exit.then(() => (ended = true));
    const line = async (text: string): Promise<void> => {
      // no deadline: vitest's test timeout ends a pump that never says it
      while (!out.split("\n").includes(text)) {
        if (ended) throw new Error(`the pump ended without printing '${text}'\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    return { child, stdout: () => out, stderr: () => err, line, exit };
  }

  const lines = (pump: Pump): string[] => pump.stdout().trim().split("\n");

  it.each(["SIGTERM", "SIGINT"] as const)("%s: the sources stop, the buffering sink flushes all it holds, exit code 0", async (signal) => {
    const pump = startPump("flush");
    await pump.line("running");
    await pump.line("holding 5");
    pump.child.kill(signal);
    const { code } = await pump.exit;
    expect(code).toBe(0);
    const out = lines(pump);
    expect(out).toContain("flushed: 1,2,3,4,5");
    expect(out).toContain("settled: 5 failed: 0");
    expect(out.slice(out.indexOf("stopping"))).toEqual(["stopping", "flushed: 1,2,3,4,5", "settled: 5 failed: 0", "exit code 0"]);
    expect(pump.stderr()).toContain(`Stopping signal="${signal}"`);
  });

  it("a second SIGTERM while the stop is stuck forces the exit, with a non-zero code", async () => {
    const pump = startPump("stuck");
    await pump.line("holding 5");
    pump.child.kill("SIGTERM");
    await pump.line("stopping");
    pump.child.kill("SIGTERM");
    const { code } = await pump.exit;
    expect(code).toBe(1);
    expect(lines(pump)).not.toContain("exit code 0");
    expect(pump.stdout()).not.toContain("flushed");
    expect(pump.stderr()).toContain("Second stop signal");
  });

  it("SIGUSR1 clears the pipeline's error and processing resumes", async () => {
    const pump = startPump("usr1");
    await pump.line("error");
    await pump.line("running");
    expect(lines(pump)).toContain("got: a");
    expect(lines(pump)).not.toContain("got: c");
    pump.child.kill("SIGUSR1");
    await pump.line("cleared");
    await pump.line("got: c");
    pump.child.kill("SIGTERM");
    const { code } = await pump.exit;
    expect(code).toBe(0);
    expect(lines(pump)).toContain("settled: 2 failed: 1"); // a and c delivered, bad failed back to its source
  });

  it("--help prints the usage and exits 0", async () => {
    const pump = startPump("flush", ["--help"]);
    const { code } = await pump.exit;
    expect(code).toBe(0);
    expect(pump.stdout()).toContain("Usage: signal-pump.ts [options]");
    expect(pump.stdout()).toContain(USAGE);
    expect(pump.stdout()).not.toContain("running");
  });

  it("a bad option exits 2 with a message and the usage", async () => {
    const pump = startPump("flush", ["--bogus"]);
    const { code } = await pump.exit;
    expect(code).toBe(2);
    expect(pump.stderr()).toContain("signal-pump.ts: Unknown option '--bogus'");
    expect(pump.stderr()).toContain(USAGE);
    expect(pump.stdout()).toBe("");
  });

  it("a missing -c file ends the process with an error naming the file", async () => {
    const missing = join(dir, "missing.conf");
    const pump = startPump("flush", ["-c", missing]);
    const { code } = await pump.exit;
    expect(code).not.toBe(0);
    expect(pump.stderr()).toContain("ConfigError");
    expect(pump.stderr()).toContain(missing);
    expect(pump.stdout()).not.toContain("running");
  });
});

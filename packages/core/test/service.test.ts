import { describe, expect, it } from "vitest";
import {
  Connection,
  DuplicateError,
  Lookup,
  NotFoundError,
  Pipeline,
  Processor,
  PumpService,
  Source,
  type Context,
  type PumpApplication,
} from "../src/index.js";
import { UnitTestSink, captureLogs, createApp, until } from "./helpers.js";

/** Holds until stopped; records start and stop in a shared journal. */
class Idle extends Source {
  journal: string[] | undefined;
  async main(): Promise<void> {
    this.journal?.push(`${this.pipeline.id} source started`);
    await this.stopped();
  }
}

class Pass extends Processor {
  process(_context: Context, event: unknown): unknown {
    return event;
  }
}

/** A sink that writes "started" / "stopped" lines to a journal. */
class JournalSink extends UnitTestSink {
  journal: string[] = [];
  override start(): void {
    this.journal.push(`${this.pipeline.id} started`);
  }
  override async stop(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    this.journal.push(`${this.pipeline.id} stopped`);
  }
}

function idlePipeline(app: PumpApplication, id: string, journal: string[] = []): Pipeline {
  const p = new Pipeline(app, id);
  const source = new Idle(app, p, { id: "Src" });
  source.journal = journal;
  const sink = new JournalSink(app, p);
  sink.journal = journal;
  p.build(source, new Pass(app, p, { id: "Proc" }), sink);
  return p;
}

class RecordingConnection extends Connection {
  journal: string[] = [];
  override async connect(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 2)); // the service must wait for it
    this.journal.push(`${this.id} connected`);
  }
  override async disconnect(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.journal.push(`${this.id} disconnected`);
  }
}

class RecordingLookup extends Lookup<string, string> {
  journal: string[] = [];
  loads = 0;
  async load(): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    this.loads++;
    this.journal.push(`${this.id} loaded`);
    return true;
  }
  get(key: string): string {
    return key;
  }
}

describe("PumpService registries", () => {
  it("is the application's 'bspump.PumpService'", () => {
    const app = createApp();
    expect(app.pumpService).toBeInstanceOf(PumpService);
    expect(app.getService("bspump.PumpService")).toBe(app.pumpService);
    expect(app.pumpService.app).toBe(app);
  });

  it("refuses a second pipeline with the same id", () => {
    const app = createApp();
    const svc = app.pumpService;
    const first = idlePipeline(app, "P");
    expect(svc.addPipeline(first)).toBe(first);
    expect(() => svc.addPipeline(idlePipeline(app, "P"))).toThrow(DuplicateError);
    expect(() => svc.addPipeline(idlePipeline(app, "P"))).toThrow(/Pipeline 'P' is already registered/);
    expect(svc.pipelines.get("P")).toBe(first);
    svc.addPipelines(idlePipeline(app, "Q"), idlePipeline(app, "R"));
    expect([...svc.pipelines.keys()]).toEqual(["P", "Q", "R"]);
  });

  it("refuses a second connection or lookup with the same id", () => {
    const app = createApp();
    const svc = app.pumpService;
    const c = new RecordingConnection(app, "C");
    expect(svc.addConnection(c)).toBe(c);
    expect(() => svc.addConnection(new RecordingConnection(app, "C"))).toThrow(DuplicateError);
    const l = new RecordingLookup(app, "L");
    expect(svc.addLookup(l)).toBe(l);
    expect(() => svc.addLookup(new RecordingLookup(app, "L"))).toThrow(DuplicateError);
  });

  it("locates pipelines, processors and sources by BSPump's addresses", () => {
    const app = createApp();
    const svc = app.pumpService;
    const p = svc.addPipeline(idlePipeline(app, "P"));
    expect(svc.locate("P")).toBe(p);
    expect(svc.locate("P.Proc")).toBe(p.locateProcessor("Proc"));
    expect(svc.locate("P.Proc")).toBeInstanceOf(Pass);
    expect(svc.locate("P.JournalSink")).toBeInstanceOf(JournalSink);
    expect(svc.locate("P.*Src")).toBe(p.sources[0]);
    expect(svc.locate("P.*Src")).toBeInstanceOf(Idle);
    expect(svc.locate("Nope")).toBeUndefined();
    expect(svc.locate("P.Nope")).toBeUndefined();
    expect(svc.locate("P.*Nope")).toBeUndefined();
    expect(svc.locate("P.Src")).toBeUndefined(); // a source needs the '*'
    expect(svc.locate("Nope.Proc")).toBeUndefined();
  });

  it("locates connections and lookups by id or passes an instance through; an unknown id says what to call", () => {
    const app = createApp();
    const svc = app.pumpService;
    const c = svc.addConnection(new RecordingConnection(app, "C"));
    const l = svc.addLookup(new RecordingLookup(app, "L"));
    expect(svc.locateConnection("C")).toBe(c);
    expect(svc.locateConnection(c)).toBe(c);
    expect(svc.locateLookup("L")).toBe(l);
    expect(svc.locateLookup(l)).toBe(l);
    expect(() => svc.locateConnection("Missing")).toThrow(NotFoundError);
    expect(() => svc.locateConnection("Missing")).toThrow(/Connection 'Missing' not found.*addConnection\(\)/);
    expect(() => svc.locateLookup("Missing")).toThrow(/Lookup 'Missing' not found.*addLookup\(\)/);
    // what a component calls from its constructor
    const p = new Pipeline(app, "P");
    expect(p.locateConnection("C")).toBe(c);
    expect(() => p.locateConnection("Missing")).toThrow(/addConnection/);
  });
});

describe("PumpService lifecycle", () => {
  it("connects and loads eager lookups before pipelines start, closes connections after pipelines stopped", async () => {
    const app = createApp();
    const svc = app.pumpService;
    const journal: string[] = [];
    const c1 = svc.addConnection(new RecordingConnection(app, "C1"));
    const c2 = svc.addConnection(new RecordingConnection(app, "C2"));
    c1.journal = c2.journal = journal;
    const eager = svc.addLookup(new RecordingLookup(app, "Eager"));
    const lazy = svc.addLookup(new RecordingLookup(app, { id: "Lazy", lazy: true }));
    eager.journal = lazy.journal = journal;
    svc.addPipelines(idlePipeline(app, "P", journal), idlePipeline(app, "Q", journal));

    expect(svc.running).toBe(false);
    await svc.initialize();
    expect(svc.running).toBe(true);
    await until(() => journal.filter((line) => line.endsWith("source started")).length === 2, "both sources");
    expect(eager.loads).toBe(1);
    expect(lazy.loads).toBe(0);
    const connected = journal.indexOf("C1 connected");
    const firstStart = journal.indexOf("P started");
    expect(connected).toBeGreaterThanOrEqual(0);
    expect(journal.indexOf("C2 connected")).toBeLessThan(firstStart);
    expect(connected).toBeLessThan(firstStart);
    expect(journal.indexOf("Eager loaded")).toBeGreaterThan(Math.max(connected, journal.indexOf("C2 connected")));
    expect(journal.indexOf("Eager loaded")).toBeLessThan(firstStart);
    expect(journal.indexOf("Q started")).toBeGreaterThan(journal.indexOf("Eager loaded"));
    for (const p of svc.pipelines.values()) expect(p.running).toBe(true);

    journal.length = 0;
    await svc.finalize();
    expect(svc.running).toBe(false);
    expect(journal.toSorted()).toEqual(["C1 disconnected", "C2 disconnected", "P stopped", "Q stopped"]);
    const lastStop = Math.max(journal.indexOf("P stopped"), journal.indexOf("Q stopped"));
    expect(journal.indexOf("C1 disconnected")).toBeGreaterThan(lastStop);
    expect(journal.indexOf("C2 disconnected")).toBeGreaterThan(lastStop);
    for (const p of svc.pipelines.values()) expect(p.running).toBe(false);
  });

  it("a connection that fails to close is logged and the others still close", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const svc = app.pumpService;
      class Sticky extends Connection {
        override async disconnect(): Promise<void> {
          throw new Error("socket hung");
        }
      }
      svc.addConnection(new Sticky(app, "Sticky"));
      const ok = svc.addConnection(new RecordingConnection(app, "Ok"));
      await svc.initialize();
      await svc.finalize();
      expect(ok.journal).toEqual(["Ok connected", "Ok disconnected"]);
      const record = logs.records.find((r) => r.message === "Connection failed to close");
      expect(record?.fields.connection).toBe("Sticky");
      expect(record?.fields.error).toHaveProperty("message", "socket hung");
    } finally {
      logs.restore();
    }
  });

  it("starts a pipeline added while running, not one added before initialize()", async () => {
    const app = createApp();
    const svc = app.pumpService;
    const before = svc.addPipeline(idlePipeline(app, "Before"));
    expect(before.running).toBe(false);
    await svc.initialize();
    expect(before.running).toBe(true);
    const late = svc.addPipeline(idlePipeline(app, "Late"));
    await until(() => late.running && late.isReady(), "the late pipeline to start");
    await svc.finalize();
    expect(late.running).toBe(false);
    const afterwards = svc.addPipeline(idlePipeline(app, "Afterwards"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(afterwards.running).toBe(false);
  });

  it("delPipeline() stops the pipeline and forgets it; an unknown one is NotFoundError", async () => {
    const app = createApp();
    const svc = app.pumpService;
    const journal: string[] = [];
    const p = svc.addPipeline(idlePipeline(app, "P", journal));
    const q = svc.addPipeline(idlePipeline(app, "Q", journal));
    await svc.initialize();
    await svc.delPipeline("P");
    expect(journal).toContain("P stopped");
    expect(p.running).toBe(false);
    expect(svc.pipelines.has("P")).toBe(false);
    expect(svc.locate("P")).toBeUndefined();
    expect(q.running).toBe(true);
    await svc.delPipeline(q);
    expect(q.running).toBe(false);
    expect(svc.pipelines.size).toBe(0);
    await expect(svc.delPipeline("P")).rejects.toThrow(NotFoundError);
    // a different pipeline that happens to have a registered id is not the registered one
    svc.addPipeline(idlePipeline(app, "R"));
    await expect(svc.delPipeline(idlePipeline(app, "R"))).rejects.toThrow(NotFoundError);
    await svc.finalize();
  });

  it("a pipeline whose start fails is put in error; the others run", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const svc = app.pumpService;
      const bad = idlePipeline(app, "Bad");
      class BrokenStart extends Pass {
        override start(): void {
          throw new Error("cannot open the output");
        }
      }
      bad.insertBefore("Proc", new BrokenStart(app, bad, { id: "Broken" }));
      svc.addPipeline(bad);
      const good = svc.addPipeline(idlePipeline(app, "Good"));
      await svc.initialize();
      expect(bad.isError()).toBe(true);
      expect(bad.error?.error).toHaveProperty("message", "cannot open the output");
      expect(good.running).toBe(true);
      expect(good.isError()).toBe(false);
      await svc.finalize();
    } finally {
      logs.restore();
    }
  });

  it("stops a pipeline only after the pipelines that feed it (linked ancestors)", async () => {
    const app = createApp();
    const svc = app.pumpService;
    const journal: string[] = [];
    const downstream = svc.addPipeline(idlePipeline(app, "Down", journal));
    const upstream = svc.addPipeline(idlePipeline(app, "Up", journal));
    downstream.link(upstream);
    await svc.initialize();
    journal.length = 0;
    await svc.finalize();
    expect(journal).toEqual(["Up stopped", "Down stopped"]);
  });
});

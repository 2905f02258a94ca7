import { monitorEventLoopDelay } from "node:perf_hooks";
import { Generator, Pipeline, ProcessorBase, PumpApplication, Sink, Source, type LogRecord, type Subscriber } from "@pump/core";
import {
  FRAME_VERSION,
  type ConnectionView,
  type CountersView,
  type DashboardFrame,
  type DeliveryView,
  type EdgeView,
  type ErrorView,
  type HistoryView,
  type LogView,
  type LookupView,
  type PipelineState,
  type PipelineView,
  type PumpView,
  type RatesView,
  type SourceView,
  type ThrottleView,
} from "./frame.js";
import { preview } from "./preview.js";

export interface DashboardFeedOptions {
  /** Seconds of rate history kept per pipeline, for the sparklines (default 300). */
  historySeconds?: number | undefined;
  /** Characters of a failed event and of its context shown with a hard error; 0 shows neither (default 4000). */
  eventPreviewChars?: number | undefined;
  /** The clock, epoch ms (tests pass their own). */
  now?: (() => number) | undefined;
}

/** What the feed remembers of a pipeline between samples. */
interface Tracked {
  readonly pipeline: Pipeline;
  last: { at: number; in: number; out: number; drop: number };
  rates: RatesView;
  readonly history: HistoryView;
  notReadyCount: number;
  notReadySince: number | null;
  readonly unsubscribe: () => void;
}

/** One client of the stream. */
interface Client {
  readonly write: (text: string) => boolean;
  readonly close: () => void;
  /** Its next frame must be full: it is new, or it missed frames while its socket was full. */
  needsFull: boolean;
  /** Epoch ms since its socket stopped taking writes; undefined while it takes them. */
  blockedSince: number | undefined;
}

/** A client whose socket has taken nothing for this long is dropped (it reconnects and gets a full frame). */
const BLOCKED_LIMIT_MS = 60_000;
const LOG_LINES = 8;
const PIPELINE_CHANGED = ["bspump.pipeline.error!", "bspump.pipeline.clear_error!"] as const;

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function describeThrottle(who: unknown): ThrottleView {
  if (who instanceof Pipeline) return { id: who.id, kind: "pipeline" };
  if (who instanceof Source) return { id: who.locateAddress(), kind: "source" };
  if (who instanceof ProcessorBase) return { id: who.locateAddress(), kind: "processor" };
  if (typeof who === "object" && who !== null && "id" in who) return { id: String((who as { id: unknown }).id), kind: "other" };
  return { id: String(who), kind: "other" };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : preview(error, { maxChars: 500 });
}

function logView(record: LogRecord): LogView {
  const component = record.fields.component;
  const error = record.fields.error;
  return {
    time: record.time,
    level: record.level,
    message: record.message,
    component: typeof component === "string" ? component : null,
    error: error === undefined ? null : errorMessage(error),
  };
}

function kindOf(processor: ProcessorBase): "processor" | "generator" | "sink" {
  return processor instanceof Sink ? "sink" : processor instanceof Generator ? "generator" : "processor";
}

function detailText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return preview(value, { maxChars: 200, maxDepth: 2 }).replace(/\s*\n\s*/g, " ");
}

/** Server-Sent Event text of one frame. JSON has no raw line breaks, so one `data:` line carries it. */
export function encodeFrame(frame: DashboardFrame): string {
  return `id: ${frame.seq}\nevent: frame\ndata: ${JSON.stringify(frame)}\n\n`;
}

/**
 * The dashboard's data: samples every pipeline's counters (rates and a history of them), builds
 * `DashboardFrame`s from the pump's public views (pipelines, their sources, processors, throttles and
 * errors, lookups, connections) and sends them to the stream's clients. `sample()` is called about
 * once a second while the pump runs; a hard error appearing or being cleared is pushed at once.
 */
export class DashboardFeed {
  readonly app: PumpApplication;
  readonly historySeconds: number;
  readonly eventPreviewChars: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #tracked = new Map<Pipeline, Tracked>();
  readonly #clients = new Set<Client>();
  readonly #errorViews = new WeakMap<object, ErrorView>();
  #seq = 0;
  #loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  #loopDelay: PumpView["loopDelay"] = null;
  #pushTimer: NodeJS.Timeout | undefined;

  constructor(app: PumpApplication, options: DashboardFeedOptions = {}) {
    this.app = app;
    this.historySeconds = options.historySeconds ?? 300;
    this.eventPreviewChars = options.eventPreviewChars ?? 4000;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** Clients connected to the stream. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Frames sampled so far. */
  get seq(): number {
    return this.#seq;
  }

  /** Starts measuring the event loop's delay (the pump calls it when it runs). */
  measureEventLoop(): void {
    if (this.#loop !== undefined) return;
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
  }

  /**
   * Takes a sample: each pipeline's rates since the last one, a point of history, and a frame to every
   * client. Returns the frame (what a client that is up to date got).
   */
  sample(): DashboardFrame {
    const now = this.#takeSample();
    return this.#broadcast(now, true) ?? this.#frame(now, false, true);
  }

  /** `sample()` without building a frame when no client is connected: what the dashboard's timer calls. */
  tick(): void {
    this.#broadcast(this.#takeSample(), true);
  }

  #takeSample(): number {
    const now = this.#now();
    this.#sync();
    const horizon = now - this.historySeconds * 1000;
    for (const tracked of this.#tracked.values()) {
      const { in: taken, out, drop } = tracked.pipeline.metrics;
      const seconds = (now - tracked.last.at) / 1000;
      if (seconds > 0) {
        tracked.rates = {
          in: round(Math.max(0, taken - tracked.last.in) / seconds),
          out: round(Math.max(0, out - tracked.last.out) / seconds),
          drop: round(Math.max(0, drop - tracked.last.drop) / seconds),
        };
      }
      tracked.last = { at: now, in: taken, out, drop };
      const history = tracked.history;
      history.t.push(now);
      history.in.push(tracked.rates.in);
      history.out.push(tracked.rates.out);
      let old = 0;
      while (old < history.t.length && history.t[old]! < horizon) old++;
      if (old > 0) {
        history.t.splice(0, old);
        history.in.splice(0, old);
        history.out.splice(0, old);
      }
    }
    const loop = this.#loop;
    if (loop !== undefined) {
      this.#loopDelay = loop.count > 0 ? { p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) } : this.#loopDelay;
      loop.reset();
    }
    this.#seq++;
    return now;
  }

  /** The pump as it is now, as a frame; `full` adds the rate history. Takes no sample. */
  snapshot(full = true): DashboardFrame {
    this.#sync();
    return this.#frame(this.#now(), full, false);
  }

  /**
   * Adds a stream client: `write` sends text (false when its socket buffer is full: frames are
   * skipped until `drained()`), `close` drops it. It gets a full frame at once. Returns the client's
   * handle: call `drained()` when the socket drains and `detach()` when it closed.
   */
  attach(write: (text: string) => boolean, close: () => void): { drained: () => void; detach: () => void } {
    const client: Client = { write, close, needsFull: true, blockedSince: undefined };
    this.#clients.add(client);
    this.#sync();
    this.#send(client, encodeFrame(this.#frame(this.#now(), true, false)));
    return {
      drained: () => {
        client.blockedSince = undefined;
      },
      detach: () => {
        this.#clients.delete(client);
      },
    };
  }

  /** Ends every client and stops measuring; the feed can be used again. */
  close(): void {
    clearTimeout(this.#pushTimer);
    this.#pushTimer = undefined;
    for (const client of this.#clients) client.close();
    this.#clients.clear();
    this.#loop?.disable();
    this.#loop = undefined;
    for (const tracked of this.#tracked.values()) tracked.unsubscribe();
    this.#tracked.clear();
  }

  /** Sends a frame soon (coalesced) without taking a sample: a hard error appeared or was cleared. */
  #pushSoon(): void {
    if (this.#pushTimer !== undefined || this.#clients.size === 0) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined;
      this.#seq++;
      this.#broadcast(this.#now(), false);
    }, 20);
    this.#pushTimer.unref();
  }

  /** Sends a frame to every client; returns the (not full) frame, undefined when there was no client to build it for. */
  #broadcast(now: number, point: boolean): DashboardFrame | undefined {
    if (this.#clients.size === 0) return undefined;
    const frame = this.#frame(now, false, point);
    let delta: string | undefined;
    let full: string | undefined;
    for (const client of this.#clients) {
      if (client.blockedSince !== undefined) {
        if (now - client.blockedSince > BLOCKED_LIMIT_MS) {
          this.#clients.delete(client);
          client.close();
        }
        continue;
      }
      const text = client.needsFull ? (full ??= encodeFrame(this.#frame(now, true, point))) : (delta ??= encodeFrame(frame));
      this.#send(client, text);
    }
    return frame;
  }

  #send(client: Client, text: string): void {
    client.needsFull = false;
    if (!client.write(text)) {
      // Its socket is full: skip frames until it drains, then start it again from a full frame.
      client.blockedSince = this.#now();
      client.needsFull = true;
    }
  }

  /** Follows pipelines added to (or removed from) the pump. */
  #sync(): void {
    const pipelines = this.app.pumpService.pipelines;
    for (const [pipeline, tracked] of this.#tracked) {
      if (pipelines.get(pipeline.id) !== pipeline) {
        tracked.unsubscribe();
        this.#tracked.delete(pipeline);
      }
    }
    for (const pipeline of pipelines.values()) if (!this.#tracked.has(pipeline)) this.#track(pipeline);
  }

  #track(pipeline: Pipeline): void {
    const now = this.#now();
    const { in: taken, out, drop } = pipeline.metrics;
    const onReady: Subscriber = (message) => {
      if (message === "bspump.pipeline.ready!") {
        tracked.notReadySince = null;
      } else {
        tracked.notReadyCount++;
        tracked.notReadySince ??= this.#now();
      }
    };
    const onChange: Subscriber = () => this.#pushSoon();
    pipeline.pubsub.subscribe("bspump.pipeline.ready!", onReady);
    pipeline.pubsub.subscribe("bspump.pipeline.not_ready!", onReady);
    for (const message of PIPELINE_CHANGED) pipeline.pubsub.subscribe(message, onChange);
    const tracked: Tracked = {
      pipeline,
      last: { at: now, in: taken, out, drop },
      rates: { in: 0, out: 0, drop: 0 },
      history: { t: [], in: [], out: [] },
      notReadyCount: 0,
      notReadySince: pipeline.isReady() ? null : now,
      unsubscribe: () => {
        pipeline.pubsub.unsubscribe("bspump.pipeline.ready!", onReady);
        pipeline.pubsub.unsubscribe("bspump.pipeline.not_ready!", onReady);
        for (const message of PIPELINE_CHANGED) pipeline.pubsub.unsubscribe(message, onChange);
      },
    };
    this.#tracked.set(pipeline, tracked);
  }

  #frame(now: number, full: boolean, point: boolean): DashboardFrame {
    const pipelines = [...this.#tracked.values()].map((tracked) => this.#pipelineView(tracked));
    const frame: DashboardFrame = {
      v: FRAME_VERSION,
      seq: this.#seq,
      at: now,
      full,
      point,
      pump: this.#pumpView(),
      pipelines,
      edges: this.#edges(),
      lookups: this.#lookups(),
      connections: this.#connections(),
    };
    if (full) {
      frame.history = {};
      for (const tracked of this.#tracked.values()) {
        const h = tracked.history;
        frame.history[tracked.pipeline.id] = { t: [...h.t], in: [...h.in], out: [...h.out] };
      }
    }
    return frame;
  }

  #pumpView(): PumpView {
    const app = this.app;
    const memory = process.memoryUsage();
    const token = app.config.get("web", "token");
    return {
      name: app.config.get("general", "name") ?? app.constructor.name,
      coreVersion: (app.constructor as typeof PumpApplication).VERSION,
      node: process.version,
      pid: process.pid,
      startedAt: this.#startedAt,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      loopDelay: this.#loopDelay,
      tokenRequired: token !== undefined && token.trim() !== "",
      historySeconds: this.historySeconds,
    };
  }

  #pipelineView(tracked: Tracked): PipelineView {
    const pipeline = tracked.pipeline;
    const snapshot = pipeline.metricsSnapshot();
    const counters: CountersView = pipeline.metrics.counters();
    const throttles = [...pipeline.getThrottles()].map(describeThrottle);
    const state: PipelineState = pipeline.isError() ? "error" : !pipeline.running ? "stopped" : pipeline.isReady() ? "ready" : "throttled";
    const sources = pipeline.sources.map((source): SourceView => {
      const rest = source.restGet();
      const view: SourceView = { id: source.id, class: source.constructor.name, feeders: [...source.feeders].map((p) => p.id) };
      if (typeof rest.Queue === "number") view.queue = rest.Queue;
      if (typeof rest.BackPressure === "boolean") view.backPressure = rest.BackPressure;
      return view;
    });
    const depths = [...pipeline.iterProcessors()].map((depth) =>
      depth.map((processor) => {
        const profile = snapshot.profiler[processor.id] ?? processor.profile;
        return { id: processor.id, class: processor.constructor.name, kind: kindOf(processor), runs: profile.runs, seconds: round(profile.duration, 6) };
      }),
    );
    const log = pipeline.recentLog.filter((record) => record.level === "warn" || record.level === "error").slice(-LOG_LINES).map(logView);
    const delivery: DeliveryView = {
      queued: sources.reduce((sum, source) => sum + (source.queue ?? 0), 0),
      pending: pipeline.futures,
      inFlight: depths.length > 1 ? null : Math.max(0, counters.in - counters.out - counters.drop),
      routedErrors: counters.routedErrors,
      hardErrors: counters.error,
    };
    return {
      id: pipeline.id,
      class: pipeline.constructor.name,
      state,
      throttles,
      counters,
      rates: tracked.rates,
      notReady: { count: tracked.notReadyCount, since: state === "ready" ? null : tracked.notReadySince },
      readyDutyCycle: round(snapshot.readyDutyCycle),
      sources,
      depths,
      error: this.#errorView(pipeline),
      log,
      delivery,
    };
  }

  #errorView(pipeline: Pipeline): ErrorView | null {
    const state = pipeline.error;
    if (state === undefined) return null;
    const known = this.#errorViews.get(state);
    if (known !== undefined) return known;
    const error = state.error;
    const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
    const hidden = "[not shown: event_preview is 0]";
    const view: ErrorView = {
      component: state.componentId ?? null,
      name: error instanceof Error ? error.name : typeof error,
      code: code === undefined ? null : String(code),
      message: errorMessage(error),
      stack: error instanceof Error && typeof error.stack === "string" ? error.stack.slice(0, 8000) : null,
      at: Math.round(state.at * 1000),
      event: this.eventPreviewChars > 0 ? preview(state.event, { maxChars: this.eventPreviewChars }) : hidden,
      context: this.eventPreviewChars > 0 ? preview(state.context, { maxChars: this.eventPreviewChars }) : hidden,
    };
    this.#errorViews.set(state, view);
    return view;
  }

  /** Routes (a feeder of one of the pipeline's sources) and links (the other pipelines `upstream()` names). */
  #edges(): EdgeView[] {
    const edges: EdgeView[] = [];
    for (const tracked of this.#tracked.values()) {
      const pipeline = tracked.pipeline;
      const routed = new Set<Pipeline>();
      for (const source of pipeline.sources) {
        for (const feeder of source.feeders) {
          if (feeder === pipeline) continue;
          routed.add(feeder);
          edges.push({ from: feeder.id, to: pipeline.id, kind: "route", via: source.id });
        }
      }
      for (const upstream of pipeline.upstream()) {
        if (!routed.has(upstream)) edges.push({ from: upstream.id, to: pipeline.id, kind: "link", via: null });
      }
    }
    return edges;
  }

  #lookups(): LookupView[] {
    return [...this.app.pumpService.lookups.values()].map((lookup) => {
      const rest = lookup.restGet();
      const size = typeof rest.Size === "number" ? rest.Size : typeof rest.Cached === "number" ? rest.Cached : null;
      return {
        id: lookup.id,
        class: lookup.constructor.name,
        loaded: lookup.loaded,
        size,
        updatedAt: lookup.updatedAt === undefined ? null : Math.round(lookup.updatedAt * 1000),
        changedAt: lookup.changedAt === undefined ? null : Math.round(lookup.changedAt * 1000),
        master: lookup.masterUrl ?? null,
      };
    });
  }

  #connections(): ConnectionView[] {
    return [...this.app.pumpService.connections.values()].map((connection) => {
      const details: Record<string, string> = {};
      for (const [key, value] of Object.entries(connection.restGet())) {
        if (key === "Id" || key === "Class" || value === undefined) continue;
        details[key] = detailText(value);
      }
      return { id: connection.id, class: connection.constructor.name, details };
    });
  }
}

import { Config, ConfigError, HttpError, WebResponse, WebServer, parseListen, type ConfigValues, type Logger, type PumpApplication, type WebRequest } from "@pump/core";
import { PAGE_HEADERS, isFresh, loadAssets, type Asset } from "./assets.js";
import { AlreadyMountedError } from "./errors.js";
import { DashboardFeed } from "./feed.js";

export interface DashboardOptions {
  /** Values for the `[dashboard]` keys; the `.conf` file's section wins over them. */
  config?: ConfigValues | undefined;
  /** The clock of the feed, epoch ms (tests). */
  now?: (() => number) | undefined;
}

/** The route of the stream (Server-Sent Events) and of one frame as JSON. */
export const STREAM_ROUTE = "/bspump/v1/dashboard/stream";
export const SNAPSHOT_ROUTE = "/bspump/v1/dashboard";
/** Where the page's scripts, styles and icon are served. */
export const ASSETS_ROUTE = "/dashboard/assets";

const mounted = new WeakSet<PumpApplication>();

function normalizePath(path: string): string {
  const trimmed = path.trim();
  const withSlash = trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
  return withSlash.length > 1 && withSlash.endsWith("/") ? withSlash.slice(0, -1) : withSlash;
}

/**
 * The live dashboard of a pump, served by its web listener (`[web] listen`): the page at `path`
 * (`/` by default), its files under `/dashboard/assets/`, and one Server-Sent Events stream at
 * `/bspump/v1/dashboard/stream` that sends a `DashboardFrame` every `interval`. Clearing a hard
 * error is core's `POST /bspump/v1/pipelines/:id/clear-error`, guarded by `[web] token`.
 *
 * Config `[dashboard]`: `path`, `interval` (seconds between frames, default 1), `history` (what the
 * sparklines cover, default 5m), `event_preview` (characters of a failed event and of its context
 * shown; 0 shows neither), `listen` (the `[web] listen` used when the configuration has none:
 * `127.0.0.1:8080`, loopback only).
 */
export class Dashboard {
  static ConfigDefaults: ConfigValues = {
    path: "/",
    interval: 1,
    history: "5m",
    event_preview: 4000,
    listen: "127.0.0.1:8080",
  };

  readonly app: PumpApplication;
  readonly config: Config;
  readonly feed: DashboardFeed;
  readonly web: WebServer;
  readonly log: Logger;
  /** Where the page is served, e.g. "/". */
  readonly path: string;
  /** Seconds between two frames. */
  readonly interval: number;
  /** Resolves the page's URL once the web listener listens. */
  readonly listening: Promise<string>;

  readonly #assets: Map<string, Asset>;
  readonly #removers: (() => void)[] = [];
  readonly #subscriptions: [string, () => void][] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(app: PumpApplication, options: DashboardOptions = {}) {
    if (mounted.has(app)) throw new AlreadyMountedError();
    this.app = app;
    this.config = Config.forClass(new.target, "dashboard", options.config, app.config);
    this.log = app.log.child({}, "bspump.dashboard");
    this.path = normalizePath(this.config.get("path"));
    this.interval = this.config.getSeconds("interval");
    if (!(this.interval > 0)) throw new ConfigError(`interval must be more than 0 seconds, got ${this.interval}`, { section: "dashboard", key: "interval" }, "PUMP_CONFIG_VALUE");
    this.#assets = loadAssets();
    this.feed = new DashboardFeed(app, {
      historySeconds: this.config.getSeconds("history"),
      eventPreviewChars: this.config.getInt("event_preview"),
      now: options.now,
    });
    if (app.config.get("web", "listen") === undefined) {
      const listen = this.config.get("listen");
      parseListen(listen, { section: "dashboard", key: "listen" });
      app.config.set("web", "listen", listen);
    }
    this.web = WebServer.of(app);
    this.#routes();

    const { promise, resolve } = Promise.withResolvers<string>();
    this.listening = promise;
    this.#on("Application.run!", () => {
      this.feed.measureEventLoop();
      clearInterval(this.#timer);
      this.#timer = setInterval(() => this.feed.tick(), this.interval * 1000);
      this.#timer.unref();
      // The application starts the listener right after this message; starting it here (the same
      // start, shared) tells us when it listens. A failure is the application's to log and act on.
      this.web.start().then(
        () => {
          const url = this.url!;
          this.log.notice("Dashboard listening", { url });
          resolve(url);
        },
        () => {},
      );
    });
    this.#on("Application.stop!", () => {
      clearInterval(this.#timer);
      this.#timer = undefined;
    });
    this.#on("Application.exit!", () => this.feed.close());
    mounted.add(app);
  }

  /** The page's URL while the web listener listens. */
  get url(): string | undefined {
    const base = this.web.url;
    return base === undefined ? undefined : `${base}${this.path}`;
  }

  /** Removes the routes and stops the feed; the application can mount a dashboard again. */
  unmount(): void {
    for (const remove of this.#removers.splice(0)) remove();
    for (const [message, subscriber] of this.#subscriptions.splice(0)) this.app.pubsub.unsubscribe(message, subscriber);
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.feed.close();
    mounted.delete(this.app);
  }

  #on(message: string, subscriber: () => void): void {
    this.app.pubsub.subscribe(message, subscriber);
    this.#subscriptions.push([message, subscriber]);
  }

  #asset(request: WebRequest, name: string): WebResponse {
    const asset = this.#assets.get(name);
    if (asset === undefined) throw new HttpError(404, "Not found");
    const headers = { ...PAGE_HEADERS, etag: asset.etag, "cache-control": "no-cache" };
    if (isFresh(request.headers["if-none-match"], asset.etag)) return new WebResponse(304, undefined, headers);
    return new WebResponse(200, asset.body, { ...headers, "content-type": asset.contentType });
  }

  #routes(): void {
    const route = (method: string, pattern: string, handler: (request: WebRequest) => unknown): void => {
      this.#removers.push(this.web.route(method, pattern, handler));
    };
    route("GET", this.path, (request) => this.#asset(request, "index.html"));
    route("GET", `${ASSETS_ROUTE}/:file`, (request) => {
      const file = request.params.file!;
      if (file === "index.html") throw new HttpError(404, "Not found");
      return this.#asset(request, file);
    });
    route("GET", SNAPSHOT_ROUTE, () => this.feed.snapshot(true));
    route("GET", STREAM_ROUTE, (request) => this.#stream(request));
  }

  /** One client of the stream: Server-Sent Events until it goes away or the server closes. */
  #stream(request: WebRequest): undefined {
    const res = request.response;
    request.raw.socket.setNoDelay(true);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // a reverse proxy must pass frames on as they come
      "x-accel-buffering": "no",
    });
    // EventSource reconnects after this many ms when the stream breaks (a pump restart).
    res.write("retry: 2000\n\n");
    const client = this.feed.attach(
      (text) => res.write(text),
      () => res.destroy(),
    );
    res.on("drain", client.drained);
    res.once("close", client.detach);
    return undefined;
  }
}

/**
 * Serves the live dashboard on the application's web listener; call it before `app.run()`. When the
 * configuration has no `[web] listen`, the listener is opened on `[dashboard] listen`
 * (127.0.0.1:8080). `dashboard.listening` resolves the page's URL.
 */
export function mountDashboard(app: PumpApplication, options: DashboardOptions = {}): Dashboard {
  return new Dashboard(app, options);
}

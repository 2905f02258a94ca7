import { createHash } from "node:crypto";
import type { PumpApplication } from "../application/application.js";
import { PumpError } from "../errors.js";
import type { Lookup } from "../lookup/lookup.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { HttpError, WebResponse, type WebRequest } from "./http.js";
import { PROMETHEUS_CONTENT_TYPE, pumpMetricFamilies, renderPrometheus } from "./prometheus.js";
import type { WebServer } from "./web-server.js";

/** `lookup.serialize()` as bytes; 501 for a lookup that cannot serialize. */
async function serialized(lookup: Lookup<unknown, unknown>): Promise<Uint8Array> {
  const serialize = (lookup as { serialize?: () => Uint8Array | string | Promise<Uint8Array | string> }).serialize;
  const notImplemented = (): HttpError => new HttpError(501, `Lookup '${lookup.id}' cannot be served: it does not implement serialize()`);
  if (typeof serialize !== "function") throw notImplemented();
  let data: Uint8Array | string;
  try {
    data = await serialize.call(lookup);
  } catch (error) {
    if (error instanceof PumpError && error.code === "PUMP_USAGE") throw notImplemented();
    throw error;
  }
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/** BSPump's REST API (`/bspump/v1/...`), plus clear-error, metrics and config, mounted on a server. */
export function registerPumpApi(web: WebServer): void {
  const app = web.app;
  const service = app.pumpService;
  const version = (app.constructor as typeof PumpApplication).VERSION;

  const pipeline = (request: WebRequest): Pipeline => {
    const id = request.params.id!;
    const found = service.pipelines.get(id);
    if (found === undefined) throw new HttpError(404, `Pipeline '${id}' not found`);
    return found;
  };
  const lookup = (request: WebRequest): Lookup<unknown, unknown> => {
    const id = request.params.id!;
    const found = service.lookups.get(id);
    if (found === undefined) throw new HttpError(404, `Lookup '${id}' not found`);
    return found;
  };

  web.route("GET", "/bspump/v1/pipelines", () => Object.fromEntries([...service.pipelines].map(([id, p]) => [id, p.restGet()])));
  web.route("GET", "/bspump/v1/pipelines/:id", (request) => pipeline(request).restGet());
  // Not in BSPump (where only SIGUSR1 clears errors): clears one pipeline's hard error, answers its new state.
  web.route("POST", "/bspump/v1/pipelines/:id/clear-error", (request) => {
    const found = pipeline(request);
    if (found.isError()) web.log.notice("Pipeline error cleared over the web API", { pipeline: found.id, from: request.raw.socket.remoteAddress });
    found.clearError();
    return found.restGet();
  });

  web.route("GET", "/bspump/v1/metrics", () => Object.fromEntries([...service.pipelines].map(([id, p]) => [id, p.metricsSnapshot()])));
  const prometheus = (): WebResponse => WebResponse.text(renderPrometheus(pumpMetricFamilies(service, version)), 200, PROMETHEUS_CONTENT_TYPE);
  web.route("GET", "/bspump/v1/metrics/prometheus", prometheus);
  web.route("GET", "/metrics", prometheus);

  web.route("GET", "/bspump/v1/lookup", () => [...service.lookups.values()].map((l) => l.restGet()));
  // BSPump's master lookup endpoint: the serialized data, which slaves load (`master_url`).
  web.route("GET", "/bspump/v1/lookup/:id", async (request) => {
    const found = lookup(request);
    const data = await serialized(found);
    const etag = createHash("sha1").update(data).digest("hex");
    const headers = { etag: `"${etag}"` };
    // A slave sends back what it got: as If-None-Match, or as BSPump's own ETag request header.
    const known = request.headers["if-none-match"] ?? request.headers.etag;
    if (typeof known === "string" && known.split(",").some((tag) => tag.trim() === "*" || tag.trim().replace(/^W\//, "").replace(/^"|"$/g, "") === etag)) return new WebResponse(304, undefined, headers);
    return new WebResponse(200, data, { ...headers, "content-type": "application/octet-stream" });
  });
  web.route("GET", "/bspump/v1/lookup/:id/meta", (request) => lookup(request).restGet());

  web.route("GET", "/bspump/v1/manifest", () => ({
    NAME: app.config.get("general", "name") ?? app.constructor.name,
    PUMP_CORE_VERSION: version,
    NODE_VERSION: process.version,
    LAUNCHED_AT: web.startedAt?.toISOString(),
  }));
  // Values as written (never interpolated), secrets and URL passwords masked.
  web.route("GET", "/bspump/v1/config", () => app.config.redacted());
}

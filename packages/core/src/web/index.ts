export { WebServer, startWebApi, parseListen, type WebHandler, type UpgradeHandler, type RouteOptions, type ListenAddress } from "./web-server.js";
export { WebRequest, WebResponse, HttpError, JSON_CONTENT_TYPE, DEFAULT_BODY_LIMIT } from "./http.js";
export { WebRouter, splitPath, type RouteMatch, type RouteLookup } from "./router.js";
export { registerPumpApi } from "./api.js";
export {
  renderPrometheus,
  pumpMetricFamilies,
  escapeLabelValue,
  escapeHelp,
  formatValue as formatPrometheusValue,
  PROMETHEUS_CONTENT_TYPE,
  type MetricFamily,
  type MetricSample,
  type MetricType,
} from "./prometheus.js";

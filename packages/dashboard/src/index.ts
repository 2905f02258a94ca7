export { Dashboard, mountDashboard, STREAM_ROUTE, SNAPSHOT_ROUTE, ASSETS_ROUTE, type DashboardOptions } from "./dashboard.js";
export { DashboardFeed, encodeFrame, type DashboardFeedOptions } from "./feed.js";
export { preview, type PreviewOptions } from "./preview.js";
export { CONTENT_SECURITY_POLICY } from "./assets.js";
export { DashboardError, AlreadyMountedError, MissingAssetError, type DashboardErrorCode } from "./errors.js";
export {
  FRAME_VERSION,
  type DashboardFrame,
  type PumpView,
  type PipelineView,
  type PipelineState,
  type ThrottleView,
  type CountersView,
  type RatesView,
  type SourceView,
  type ProcessorView,
  type ErrorView,
  type LogView,
  type DeliveryView,
  type EdgeView,
  type LookupView,
  type ConnectionView,
  type HistoryView,
} from "./frame.js";

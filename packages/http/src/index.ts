export {
  HTTPABCClientSource,
  HTTPClientSource,
  HTTPClientTextSource,
  HTTPClientLineSource,
  type HTTPClientSourceOptions,
  type HTTPClientContext,
  type HTTPClientSourceStats,
} from "./client-source.js";
export { HTTPClientSink, type HTTPClientSinkOptions, type HTTPClientSinkStats, type BatchFormat } from "./client-sink.js";
export { WebServiceSource, type WebServiceContext, type WebServiceFormat, type WebServiceSourceStats } from "./web-source.js";
export { WebSocketSource, type WebSocketContext, type WebSocketSourceStats } from "./ws-source.js";
export { HTTPClientWebSocketSink, type HTTPClientWebSocketSinkOptions, type HTTPClientWebSocketSinkStats } from "./ws-sink.js";
export type { RequestHandler, UpgradeHandler, WebRouter, RoutedRequest, UpgradeRouter, UpgradeTarget, NodeServer } from "./web.js";
export { encodeValue, type BodyKind, type EncodedBody } from "./encode.js";
export {
  HttpError,
  HTTPStatusError,
  HTTPConnectionError,
  HTTPDeliveryError,
  HTTPBodyError,
  HTTPEncodeError,
  WebSocketError,
  isRetriableStatus,
  type HttpErrorCode,
} from "./errors.js";
// Importing the package registers the provider for "http:" and "https:" lookup sources.
export { HTTPBatchLookupProvider, httpLookupProviderFactory } from "./lookup-provider.js";

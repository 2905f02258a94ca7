export { ElasticSearchConnection } from "./connection.js";
export { ElasticSearchSink, type ElasticSearchSinkOptions, type ElasticSearchSinkStats } from "./sink.js";
export { ElasticSearchSource, ES_HIT_ID, ES_HIT_INDEX, type ElasticSearchSourceOptions, type Paging } from "./source.js";
export { ElasticSearchAggsSource, type ElasticSearchAggsSourceOptions } from "./aggs-source.js";
export { flattenAggregations, type Row } from "./aggs.js";
export { ElasticSearchLookup, type LookupKey } from "./lookup.js";
export {
  DATA_FEEDERS,
  dataFeederCreate,
  dataFeederCreateOrIndex,
  dataFeederDelete,
  dataFeederIndex,
  dataFeederUpdate,
  dataFeederUpsert,
  type DataFeeder,
  type Document,
} from "./data-feeder.js";
export { BulkQueue, type BulkItem, type BulkOwner, type BulkResponse, type BulkSender, type BulkSettings, type BulkStats } from "./bulk.js";
export { isRetryableItem, isRetryableStatus } from "./classify.js";
export { parseNodeUrls } from "./urls.js";
export type { RequestBody } from "./request-body.js";
export {
  ElasticSearchError,
  ElasticSearchRequestError,
  ElasticSearchItemError,
  ElasticSearchDocumentError,
  ElasticSearchStoppedError,
  type ElasticSearchErrorCode,
} from "./errors.js";

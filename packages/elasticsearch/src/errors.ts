/**
 * Every error @pump/elasticsearch raises, in one place, each with a stable `code`. Configuration
 * problems are core's `ConfigError` (they name the section and the key).
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

export type ElasticSearchErrorCode =
  | "PUMP_ES_REQUEST"
  | "PUMP_ES_ITEM"
  | "PUMP_ES_DOCUMENT"
  | "PUMP_ES_STOPPED";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * Elasticsearch codes are passed through a cast; `code` still reads as one of `ElasticSearchErrorCode`.)
 */
export class ElasticSearchError extends PumpError {
  constructor(code: ElasticSearchErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }

  get esCode(): ElasticSearchErrorCode {
    return this.code as unknown as ElasticSearchErrorCode;
  }
}

/**
 * A request Elasticsearch refused or that never got an answer, with whether trying again may help
 * (the node is down or restarting, overloaded: 429, 502–504, a timeout, a connection reset) or not
 * (a bad query, 400; no permission, 401/403; an index that does not exist, 404). The client's own
 * error is the `cause`.
 */
export class ElasticSearchRequestError extends ElasticSearchError {
  readonly retryable: boolean;
  /** The HTTP status, when Elasticsearch answered. */
  readonly status: number | undefined;
  /** Elasticsearch's error type, when it gave one (e.g. `index_not_found_exception`). */
  readonly type: string | undefined;

  constructor(message: string, options: ErrorOptions & { retryable: boolean; status?: number | undefined; type?: string | undefined }) {
    super("PUMP_ES_REQUEST", message, options);
    this.retryable = options.retryable;
    this.status = options.status;
    this.type = options.type;
  }
}

/**
 * One document of a bulk that Elasticsearch rejected for good: a mapping conflict, a version
 * conflict, an update of a missing document. It reaches the pipeline's error handling with the
 * event; `reason` is Elasticsearch's own explanation for that item.
 */
export class ElasticSearchItemError extends ElasticSearchError {
  /** The bulk action: `create`, `index`, `update` or `delete`. */
  readonly action: string;
  readonly index: string;
  readonly id: string | undefined;
  readonly status: number;
  /** Elasticsearch's error type, e.g. `document_parsing_exception`, `version_conflict_engine_exception`. */
  readonly type: string | undefined;
  readonly reason: string;

  constructor(item: { action: string; index: string; id: string | undefined; status: number; type: string | undefined; reason: string }) {
    super(
      "PUMP_ES_ITEM",
      `Elasticsearch rejected the ${item.action} of ${item.id === undefined ? "a document" : `document '${item.id}'`} in '${item.index}' (${item.status}${item.type === undefined ? "" : ` ${item.type}`}): ${item.reason}`,
    );
    this.action = item.action;
    this.index = item.index;
    this.id = item.id;
    this.status = item.status;
    this.type = item.type;
    this.reason = item.reason;
  }
}

/** An event the sink cannot turn into a bulk item: not an object, no `_id` where the feeder needs one, not serializable. */
export class ElasticSearchDocumentError extends ElasticSearchError {
  constructor(message: string, options?: ErrorOptions) {
    super("PUMP_ES_DOCUMENT", message, options);
  }
}

/** The sink or the connection stopped before Elasticsearch confirmed the event (its delivery fails with this). */
export class ElasticSearchStoppedError extends ElasticSearchError {
  constructor(message: string) {
    super("PUMP_ES_STOPPED", message);
  }
}

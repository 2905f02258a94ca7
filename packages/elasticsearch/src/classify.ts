/**
 * What to do about a failure: try again (the node is down, restarting or overloaded) or give up
 * (the request or the document is wrong). One place, so the sink, the sources and the lookup agree.
 */
import { errors } from "@elastic/elasticsearch";
import { ElasticSearchRequestError } from "./errors.js";

/** HTTP statuses after which the same request may succeed: too many requests, a gateway or node not ready, a timeout. */
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

/** Item error types that mean "not now" rather than "never", whatever their status. */
const RETRYABLE_TYPES = new Set([
  "es_rejected_execution_exception",
  "circuit_breaking_exception",
  "unavailable_shards_exception",
  "no_shard_available_action_exception",
  "cluster_block_exception",
  "node_not_connected_exception",
  "node_closed_exception",
  "process_cluster_event_timeout_exception",
]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/**
 * Whether a bulk item that failed with this status and error type may succeed later. A
 * `cluster_block_exception` is retryable only as a 503 (a node recovering its state); a read-only
 * index block (403/429 `index read-only`) is not, except that 429 always is.
 */
export function isRetryableItem(status: number, type: string | undefined): boolean {
  if (RETRYABLE_STATUS.has(status)) return true;
  if (type === undefined) return false;
  if (type === "cluster_block_exception") return status >= 500;
  return RETRYABLE_TYPES.has(type);
}

interface ErrorCause {
  type?: unknown;
  reason?: unknown;
  caused_by?: ErrorCause;
  root_cause?: ErrorCause[];
}

/** Elasticsearch's `{type, reason, caused_by}` as one line: `type: reason (caused by type: reason)`. */
export function describeCause(cause: unknown): { type: string | undefined; reason: string } {
  if (typeof cause === "string") return { type: undefined, reason: cause };
  if (typeof cause !== "object" || cause === null) return { type: undefined, reason: String(cause) };
  const error = cause as ErrorCause;
  const type = typeof error.type === "string" ? error.type : undefined;
  let reason = typeof error.reason === "string" ? error.reason : type ?? JSON.stringify(cause);
  const by = error.caused_by;
  if (by !== undefined && typeof by === "object" && by !== null) {
    const inner = describeCause(by);
    reason += ` (caused by ${inner.type === undefined ? "" : `${inner.type}: `}${inner.reason})`;
  }
  return { type, reason };
}

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The client's error as an ElasticSearchRequestError. `maybeDelivered` is false only when the
 * request certainly never reached Elasticsearch (the connection was refused, or no node was
 * alive): then a retried `create` that reports a version conflict did conflict with someone else.
 */
export function requestError(error: unknown, what: string): ElasticSearchRequestError & { maybeDelivered: boolean } {
  if (error instanceof ElasticSearchRequestError) return Object.assign(error, { maybeDelivered: true });
  let result: ElasticSearchRequestError;
  let maybeDelivered = true;
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    const body = error.body as { error?: unknown } | string | undefined;
    const cause = typeof body === "object" && body !== null && "error" in body ? describeCause(body.error) : { type: undefined, reason: typeof body === "string" && body !== "" ? body : error.message };
    result = new ElasticSearchRequestError(`${what}: Elasticsearch answered ${status}${cause.type === undefined ? "" : ` ${cause.type}`}: ${cause.reason}`, {
      cause: error,
      retryable: isRetryableStatus(status) || (cause.type !== undefined && isRetryableItem(status, cause.type)),
      status,
      type: cause.type,
    });
  } else if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError) {
    const code = causeCode(error);
    if (error instanceof errors.NoLivingConnectionsError || code === "ECONNREFUSED" || /\bECONNREFUSED\b/.test(error.message)) maybeDelivered = false;
    result = new ElasticSearchRequestError(`${what}: ${error.message}${code !== undefined && !error.message.includes(code) ? ` (${code})` : ""}`, {
      cause: error,
      retryable: true,
    });
  } else if (error instanceof errors.DeserializationError) {
    // An answer that is not JSON: a proxy's error page, a node shutting down. BSPump re-sends the bulk.
    result = new ElasticSearchRequestError(`${what}: the answer was not JSON (${error.message})`, { cause: error, retryable: true });
  } else if (error instanceof errors.RequestAbortedError) {
    result = new ElasticSearchRequestError(`${what}: aborted`, { cause: error, retryable: false });
  } else {
    const message = error instanceof Error ? error.message : String(error);
    result = new ElasticSearchRequestError(`${what}: ${message}`, { cause: error, retryable: false });
  }
  return Object.assign(result, { maybeDelivered });
}

import { ConfigError, TriggerSource, type ComponentOptions, type ConfigValues, type Pipeline, type PumpApplication } from "@pump/core";
import { flattenAggregations, type Row } from "./aggs.js";
import { ElasticSearchConnection } from "./connection.js";
import { ElasticSearchRequestError } from "./errors.js";
import { requestBodyOf, type RequestBody } from "./request-body.js";

export interface ElasticSearchAggsSourceOptions extends ComponentOptions {
  /** The search body with its `aggs`; overrides the `request_body` config key. */
  requestBody?: RequestBody | undefined;
}

/**
 * Runs an aggregation on each trigger and sends its result as flat events (BSPump's
 * ElasticSearchAggsSource): one event per leaf bucket, with the bucket keys on its path under their
 * aggregations' names, `doc_count` and the metrics (see `flattenAggregations`). BSPump walks only the
 * first top-level aggregation and makes one event per metric; this walks all of them and puts a
 * bucket's metrics in one event. A `composite` aggregation (the only top-level one) is paged with its
 * `after_key` until the last page; each page is one batch. Hits are not asked for (`size: 0` unless
 * the body sets a size). A node that is down or overloaded ends the cycle with a warning; a refused
 * request is a pipeline error.
 */
export class ElasticSearchAggsSource extends TriggerSource<Row> {
  static override ConfigDefaults: ConfigValues = {
    index: "index-*",
    request_body: "",
  };

  readonly connection: ElasticSearchConnection;
  readonly index: string;
  readonly requestBody: RequestBody;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | ElasticSearchConnection, options: ElasticSearchAggsSourceOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof ElasticSearchConnection)) throw new TypeError(`ElasticSearchAggsSource '${this.id}': connection '${located.id}' is not an ElasticSearchConnection`);
    this.connection = located;
    const c = this.config;
    this.index = c.get("index").trim();
    const body = requestBodyOf(c, options.requestBody, () => undefined);
    if (body === undefined || (!isObject(body.aggs) && !isObject(body.aggregations))) {
      throw new ConfigError("the request body needs aggregations ('aggs')", { section: c.section, key: "request_body" }, "PUMP_CONFIG_MISSING");
    }
    body.size ??= 0;
    this.requestBody = body;
  }

  async cycle(): Promise<void> {
    const body = structuredClone(this.requestBody);
    const aggs = (body.aggs ?? body.aggregations) as Record<string, Record<string, unknown>>;
    const names = Object.keys(aggs);
    const composite = names.length === 1 && isObject(aggs[names[0]!]!.composite) ? (aggs[names[0]!]!.composite as Record<string, unknown>) : undefined;
    try {
      for (;;) {
        const answer = (await this.connection.request(`Aggregation in '${this.index}'`, (client) => client.search({ index: this.index, ...body }, { signal: this.signal }))) as {
          aggregations?: Record<string, unknown>;
        };
        const rows = flattenAggregations(answer.aggregations);
        if (rows.length > 0) await this.processBatch(rows);
        if (composite === undefined) return;
        const result = answer.aggregations?.[names[0]!] as { after_key?: unknown; buckets?: unknown[] } | undefined;
        if (result?.after_key === undefined || (result.buckets?.length ?? 0) === 0) return;
        composite.after = result.after_key;
      }
    } catch (error) {
      if (error instanceof ElasticSearchRequestError && error.retryable && !this.signal.aborted) {
        this.log.warn("Elasticsearch aggregation failed; the next trigger tries again", { error: error.message });
        return;
      }
      throw error;
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Index: this.index };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

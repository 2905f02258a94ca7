// oxlint-disable no-underscore-dangle -- Elasticsearch's field names (_id, _index, _source, _scroll_id)
import { ConfigError, TriggerSource, type ComponentOptions, type ConfigValues, type Context, type Pipeline, type PumpApplication } from "@pump/core";
import type { Client } from "@elastic/elasticsearch";
import { ElasticSearchConnection } from "./connection.js";
import type { Document } from "./data-feeder.js";
import { ElasticSearchRequestError } from "./errors.js";
import { requestBodyOf, type RequestBody } from "./request-body.js";

export type Paging = "pit" | "scroll" | "search_after" | "off";
const PAGINGS: readonly Paging[] = ["pit", "scroll", "search_after", "off"];

export interface ElasticSearchSourceOptions extends ComponentOptions {
  /** The search body (query, sort, size, _source...); overrides the `request_body` config key. */
  requestBody?: RequestBody | undefined;
}

interface Hit {
  _index?: string;
  _id?: string;
  sort?: unknown[];
  inner_hits?: Record<string, { hits?: { hits?: Hit[] } }>;
  [field: string]: unknown;
}

interface SearchAnswer {
  _scroll_id?: string;
  pit_id?: string;
  hits: { hits: Hit[] };
}

/** Context keys the source sets on each event: where the document came from (not read by the sink). */
export const ES_HIT_INDEX = "_es_index";
export const ES_HIT_ID = "_es_id";

/**
 * Reads documents from Elasticsearch on each trigger (BSPump's ElasticSearchSource): the search of
 * `requestBody` / `request_body` over `index`, or — when neither is given — the documents whose
 * `timestamp` field is at or after `start_from` (match_all when `timestamp` is empty). Each hit's
 * `source` field (`_source`) is an event, with the sources of its inner hits merged in; the context
 * has `_es_index` and `_es_id`. Pages of `page_size` hits (unless the body sets `size`) go to the
 * pipeline one batch per page.
 *
 * `paging` chooses how a cycle goes through the result:
 * - `pit` (default): a point in time, `search_after` page by page: a consistent view of the whole
 *   result, each cycle from the start;
 * - `scroll`: a scroll context, each cycle from the start;
 * - `search_after`: BSPump's tailing — sorted by `sort_by` (a unique, sortable field) or the body's
 *   sort, and the last hit's sort values are kept, so each cycle goes on where the previous ended;
 * - `off`: one request, the first page.
 *
 * A node that is down or overloaded ends the cycle with a warning (the next trigger tries again;
 * `search_after` tailing loses nothing); a refused query (bad body, missing index) is a pipeline error.
 */
export class ElasticSearchSource extends TriggerSource<Document> {
  static override ConfigDefaults: ConfigValues = {
    index: "index-*",
    source: "_source",
    sort_by: "",
    timestamp: "@timestamp",
    start_from: "now-1h",
    request_body: "",
    paging: "pit",
    page_size: 1000,
    scroll_timeout: "1m",
  };

  readonly connection: ElasticSearchConnection;
  readonly index: string;
  readonly paging: Paging;
  readonly pageSize: number;
  readonly keepAlive: string;
  readonly sourceField: string;
  readonly requestBody: RequestBody;
  /** With `search_after`: the sort values of the last hit read, where the next cycle goes on. */
  lastHitSort: unknown[] | undefined;

  constructor(app: PumpApplication, pipeline: Pipeline, connection: string | ElasticSearchConnection, options: ElasticSearchSourceOptions = {}) {
    super(app, pipeline, options);
    const located = pipeline.locateConnection(connection);
    if (!(located instanceof ElasticSearchConnection)) throw new TypeError(`ElasticSearchSource '${this.id}': connection '${located.id}' is not an ElasticSearchConnection`);
    this.connection = located;
    const c = this.config;
    this.index = c.get("index").trim();
    this.sourceField = c.get("source").trim() || "_source";
    const paging = c.get("paging").trim().toLowerCase();
    if (!PAGINGS.includes(paging as Paging)) throw new ConfigError(`expected one of ${PAGINGS.join(", ")}, got '${paging}'`, { section: c.section, key: "paging" }, "PUMP_CONFIG_VALUE");
    this.paging = paging as Paging;
    this.pageSize = c.getInt("page_size");
    if (this.pageSize < 1) throw new ConfigError(`expected at least 1, got ${this.pageSize}`, { section: c.section, key: "page_size" }, "PUMP_CONFIG_VALUE");
    this.keepAlive = c.get("scroll_timeout").trim() || "1m";
    const timestamp = c.get("timestamp").trim();
    const body =
      requestBodyOf(c, options.requestBody, () =>
        timestamp !== "" ? { query: { bool: { filter: [{ range: { [timestamp]: { gte: c.get("start_from").trim() } } }] } } } : { query: { match_all: {} } },
      ) ?? {};
    const sortBy = c.get("sort_by").trim();
    if (body.sort === undefined && sortBy !== "") body.sort = [{ [sortBy]: "asc" }];
    if (this.paging === "search_after" && body.sort === undefined) {
      throw new ConfigError("paging=search_after needs sort_by (a unique, sortable field) or a sort in the request body", { section: c.section, key: "sort_by" }, "PUMP_CONFIG_MISSING");
    }
    body.size ??= this.pageSize;
    this.requestBody = body;
  }

  async cycle(): Promise<void> {
    const client = this.connection.acquire();
    try {
      switch (this.paging) {
        case "pit":
          return await this.#pit(client);
        case "scroll":
          return await this.#scroll(client);
        case "search_after":
          return await this.#searchAfter(client);
        case "off":
          await this.#emit((await this.#search("Search", () => client.search({ index: this.index, ...this.requestBody }, { signal: this.signal }))).hits.hits);
          return;
      }
    } catch (error) {
      if (error instanceof ElasticSearchRequestError && error.retryable && !this.signal.aborted) {
        this.log.warn("Elasticsearch search failed; the next trigger tries again", { error: error.message });
        return;
      }
      throw error;
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Index: this.index, Paging: this.paging, ...(this.lastHitSort === undefined ? {} : { LastHitSort: this.lastHitSort }) };
  }

  async #search(what: string, call: () => Promise<unknown>): Promise<SearchAnswer> {
    return (await this.connection.request(`${what} in '${this.index}'`, () => call())) as SearchAnswer;
  }

  async #pit(client: Client): Promise<void> {
    const opened = await this.connection.request(`Opening a point in time in '${this.index}'`, (c) => c.openPointInTime({ index: this.index, keep_alive: this.keepAlive }, { signal: this.signal }));
    let pitId = opened.id;
    try {
      let after: unknown[] | undefined;
      const body = { ...this.requestBody, sort: this.requestBody.sort ?? ["_shard_doc"] };
      for (;;) {
        const answer = await this.#search("Search", () =>
          client.search({ ...body, pit: { id: pitId, keep_alive: this.keepAlive }, ...(after === undefined ? {} : { search_after: after }) } as never, { signal: this.signal }),
        );
        if (answer.pit_id !== undefined) pitId = answer.pit_id;
        const hits = answer.hits.hits;
        if (hits.length === 0) return;
        after = hits.at(-1)!.sort;
        await this.#emit(hits);
        if (after === undefined) return;
      }
    } finally {
      await client.closePointInTime({ id: pitId }).catch((error: unknown) => this.log.debug("Closing the point in time failed", { error }));
    }
  }

  async #scroll(client: Client): Promise<void> {
    const body = { ...this.requestBody, sort: this.requestBody.sort ?? ["_doc"] };
    let answer = await this.#search("Search", () => client.search({ index: this.index, scroll: this.keepAlive, ...body } as never, { signal: this.signal }));
    let scrollId = answer._scroll_id;
    try {
      for (;;) {
        const hits = answer.hits.hits;
        if (hits.length === 0 || scrollId === undefined) {
          await this.#emit(hits);
          return;
        }
        await this.#emit(hits);
        const id = scrollId;
        answer = await this.#search("Scroll", () => client.scroll({ scroll_id: id, scroll: this.keepAlive }, { signal: this.signal }));
        if (answer._scroll_id !== undefined) scrollId = answer._scroll_id;
      }
    } finally {
      if (scrollId !== undefined) await client.clearScroll({ scroll_id: scrollId }).catch((error: unknown) => this.log.debug("Clearing the scroll failed", { error }));
    }
  }

  async #searchAfter(client: Client): Promise<void> {
    for (;;) {
      const after = this.lastHitSort;
      const answer = await this.#search("Search", () =>
        client.search({ index: this.index, ...this.requestBody, ...(after === undefined ? {} : { search_after: after }) } as never, { signal: this.signal }),
      );
      const hits = answer.hits.hits;
      if (hits.length === 0) return;
      await this.#emit(hits);
      // Only once the page is in the pipeline: a stop or an error before reads it again next time.
      const last = hits.at(-1)!.sort;
      if (last === undefined) return;
      this.lastHitSort = last;
    }
  }

  async #emit(hits: readonly Hit[]): Promise<void> {
    if (hits.length === 0) return;
    const events: Document[] = [];
    const contexts: Context[] = [];
    const field = this.sourceField;
    for (const hit of hits) {
      const source = hit[field];
      if (typeof source !== "object" || source === null) continue;
      const event = source as Document;
      if (hit.inner_hits !== undefined) {
        for (const inner of Object.values(hit.inner_hits)) {
          for (const innerHit of inner.hits?.hits ?? []) {
            const innerSource = innerHit[field];
            if (typeof innerSource === "object" && innerSource !== null) Object.assign(event, innerSource);
          }
        }
      }
      events.push(event);
      contexts.push({ [ES_HIT_INDEX]: hit._index, [ES_HIT_ID]: hit._id });
    }
    if (events.length > 0) await this.processBatch(events, contexts);
  }
}

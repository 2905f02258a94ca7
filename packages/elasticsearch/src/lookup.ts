import { AsyncLookup, ConfigError, type ConfigValues, type LookupOptions, type PumpApplication } from "@pump/core";
import { ElasticSearchConnection } from "./connection.js";
import type { Document } from "./data-feeder.js";

export type LookupKey = string | number | boolean;

/** The placeholder a `query` template uses for the key. */
const KEY_PLACEHOLDER = "{{key}}";

function substitute(template: unknown, key: LookupKey): unknown {
  if (template === KEY_PLACEHOLDER) return key;
  if (typeof template === "string") return template.includes(KEY_PLACEHOLDER) ? template.split(KEY_PLACEHOLDER).join(String(key)) : template;
  if (Array.isArray(template)) return template.map((item) => substitute(item, key));
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([name, value]) => [name, substitute(value, key)]));
  }
  return template;
}

/**
 * A lookup over an Elasticsearch index (BSPump's ElasticSearchLookup): `await lookup.get(key)` gives
 * the `_source` of the first document that matches, or undefined. Config `[lookup:<Id>]`:
 * - `index` — the index (or pattern, alias) to search;
 * - `key` — the field the key must match (`{"match": {key: value}}`, as in BSPump); `_id` looks the
 *   document up by id;
 * - `query` — instead of `key`, a JSON query in which the string `"{{key}}"` stands for the key
 *   (`{"bool": {"filter": [{"term": {"user.id": "{{key}}"}}, {"term": {"active": true}}]}}`);
 *   or override `buildFindOneQuery(key)`;
 * - `cache_size`, `cache_ttl`, `cache_miss_ttl` — core's AsyncLookup cache: answers (misses too,
 *   for a shorter time) are kept, concurrent gets of a key share one request.
 *
 * A failed request (the node down, a missing index) rejects the `get` and is not cached.
 */
export class ElasticSearchLookup extends AsyncLookup<LookupKey, Document> {
  static override ConfigDefaults: ConfigValues = {
    index: "",
    key: "",
    query: "",
  };

  readonly connection: ElasticSearchConnection;
  readonly index: string;
  readonly keyField: string;
  readonly #query: unknown;

  constructor(app: PumpApplication, connection: string | ElasticSearchConnection, options: LookupOptions = {}) {
    super(app, options);
    const located = typeof connection === "string" ? app.pumpService.locateConnection(connection) : connection;
    if (!(located instanceof ElasticSearchConnection)) throw new TypeError(`ElasticSearchLookup '${this.id}': connection '${located.id}' is not an ElasticSearchConnection`);
    this.connection = located;
    const c = this.config;
    this.index = c.get("index").trim();
    if (this.index === "") throw new ConfigError("no index", { section: c.section, key: "index" }, "PUMP_CONFIG_MISSING");
    this.keyField = c.get("key").trim();
    const query = c.get("query").trim();
    if (query !== "") {
      try {
        this.#query = JSON.parse(query);
      } catch (error) {
        throw new ConfigError(`not JSON: ${(error as Error).message}`, { section: c.section, key: "query" }, "PUMP_CONFIG_VALUE", { cause: error });
      }
    } else if (this.keyField === "" && new.target.prototype.buildFindOneQuery === ElasticSearchLookup.prototype.buildFindOneQuery) {
      throw new ConfigError("set 'key' (the field to match) or 'query'", { section: c.section, key: "key" }, "PUMP_CONFIG_MISSING");
    }
  }

  /** The query that finds the document of a key; override for your own. */
  buildFindOneQuery(key: LookupKey): Record<string, unknown> {
    if (this.#query !== undefined) return substitute(this.#query, key) as Record<string, unknown>;
    if (this.keyField === "_id") return { ids: { values: [String(key)] } };
    return { match: { [this.keyField]: key } };
  }

  /** Documents in the index (BSPump's `_count`). */
  async count(): Promise<number> {
    const answer = await this.connection.request(`Count in '${this.index}'`, (client) => client.count({ index: this.index }));
    return answer.count;
  }

  protected override async fetch(key: LookupKey): Promise<Document | undefined> {
    const answer = await this.connection.request(`Lookup '${this.id}' in '${this.index}'`, (client) =>
      client.search<Document>({ index: this.index, size: 1, query: this.buildFindOneQuery(key) as never }),
    );
    // oxlint-disable-next-line no-underscore-dangle -- the API's field name
    return answer.hits.hits[0]?._source;
  }

  protected override cacheKey(key: LookupKey): unknown {
    return typeof key === "string" ? key : `${typeof key}:${String(key)}`;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Index: this.index, Key: this.keyField };
  }
}

import { errors } from "@elastic/elasticsearch";
import { describe, expect, it } from "vitest";
import { flattenAggregations } from "../../src/aggs.js";
import { describeCause, isRetryableItem, isRetryableStatus, requestError } from "../../src/classify.js";
import { dataFeederCreate, dataFeederCreateOrIndex, dataFeederDelete, dataFeederIndex, dataFeederUpdate, dataFeederUpsert } from "../../src/data-feeder.js";
import { ElasticSearchDocumentError } from "../../src/errors.js";
import { parseNodeUrls, redactUrl } from "../../src/urls.js";

describe("data feeders", () => {
  it("make BSPump's bulk items: action line, then the document", () => {
    expect(dataFeederCreateOrIndex({ a: 1 }, undefined)).toBe('{"create":{}}\n{"a":1}\n');
    expect(dataFeederCreateOrIndex({ a: 1 }, "x")).toBe('{"index":{"_id":"x"}}\n{"a":1}\n');
    expect(dataFeederCreate({ a: 1 }, "x")).toBe('{"create":{"_id":"x"}}\n{"a":1}\n');
    expect(dataFeederCreate({ a: 1 }, undefined)).toBe('{"create":{}}\n{"a":1}\n');
    expect(dataFeederIndex({ a: 1 }, undefined)).toBe('{"index":{}}\n{"a":1}\n');
    expect(dataFeederUpdate({ a: 1 }, "x")).toBe('{"update":{"_id":"x"}}\n{"doc":{"a":1}}\n');
    expect(dataFeederUpsert({ a: 1 }, "x")).toBe('{"update":{"_id":"x"}}\n{"doc":{"a":1},"doc_as_upsert":true}\n');
    expect(dataFeederDelete({}, "x")).toBe('{"delete":{"_id":"x"}}\n');
    expect(dataFeederIndex({ s: 'quote " and\nnewline' }, 'id "1"')).toBe('{"index":{"_id":"id \\"1\\""}}\n{"s":"quote \\" and\\nnewline"}\n');
  });

  it("refuse what Elasticsearch would refuse: update/upsert/delete without _id, delete with fields", () => {
    expect(() => dataFeederUpdate({ a: 1 }, undefined)).toThrow(ElasticSearchDocumentError);
    expect(() => dataFeederUpsert({ a: 1 }, undefined)).toThrow(/needs an _id/);
    expect(() => dataFeederDelete({}, undefined)).toThrow(/needs an _id/);
    expect(() => dataFeederDelete({ a: 1 }, "x")).toThrow(/only _id, got fields a/);
  });
});

describe("node URLs", () => {
  it("split on ';' and newlines; a node after ';' takes the scheme and path of the one before", () => {
    expect(parseNodeUrls("http://es1:9200")).toEqual(["http://es1:9200"]);
    expect(parseNodeUrls("http://es1:9200;es2:9200")).toEqual(["http://es1:9200", "http://es2:9200"]);
    expect(parseNodeUrls("https://es1:9200/base/;es2:9201")).toEqual(["https://es1:9200/base", "https://es2:9201/base"]);
    expect(parseNodeUrls("http://a:9200;https://b:9243\n  http://c:9200\n")).toEqual(["http://a:9200", "https://b:9243", "http://c:9200"]);
    expect(parseNodeUrls("  ")).toEqual([]);
  });

  it("refuse what is no http(s) URL", () => {
    expect(() => parseNodeUrls("es1:9200")).toThrow(/no scheme|only http/);
    expect(() => parseNodeUrls("localhost")).toThrow(/no scheme/);
    expect(() => parseNodeUrls("ftp://es1")).toThrow(/only http/);
  });

  it("hide passwords in logs", () => {
    expect(redactUrl("http://elastic:secret@es1:9200")).toBe("http://elastic:***@es1:9200");
  });
});

describe("what is worth retrying", () => {
  it("statuses and item error types", () => {
    for (const status of [408, 429, 502, 503, 504]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 500]) expect(isRetryableStatus(status)).toBe(false);
    expect(isRetryableItem(429, "es_rejected_execution_exception")).toBe(true);
    expect(isRetryableItem(500, "es_rejected_execution_exception")).toBe(true);
    expect(isRetryableItem(503, "unavailable_shards_exception")).toBe(true);
    expect(isRetryableItem(500, "circuit_breaking_exception")).toBe(true);
    expect(isRetryableItem(400, "document_parsing_exception")).toBe(false);
    expect(isRetryableItem(409, "version_conflict_engine_exception")).toBe(false);
    expect(isRetryableItem(404, "document_missing_exception")).toBe(false);
    expect(isRetryableItem(403, "cluster_block_exception")).toBe(false); // index read-only
    expect(isRetryableItem(503, "cluster_block_exception")).toBe(true); // state not recovered
  });

  it("client errors: connection and timeouts retry; refused connections certainly did not deliver", () => {
    const refused = Object.assign(new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200"), {});
    expect(requestError(refused, "Bulk")).toMatchObject({ retryable: true, maybeDelivered: false });
    expect(requestError(new errors.TimeoutError("Request timed out"), "Bulk")).toMatchObject({ retryable: true, maybeDelivered: true });
    expect(requestError(new errors.ConnectionError("socket hang up"), "Bulk")).toMatchObject({ retryable: true, maybeDelivered: true });
    expect(requestError(new errors.RequestAbortedError("aborted"), "Bulk")).toMatchObject({ retryable: false });
    expect(requestError(new TypeError("oops"), "Bulk")).toMatchObject({ retryable: false, message: "Bulk: oops" });
  });

  it("describes Elasticsearch's error with its causes", () => {
    expect(describeCause({ type: "a", reason: "outer", caused_by: { type: "b", reason: "inner" } })).toEqual({ type: "a", reason: "outer (caused by b: inner)" });
    expect(describeCause("plain")).toEqual({ type: undefined, reason: "plain" });
  });
});

describe("flattenAggregations", () => {
  it("terms → terms → metrics: one row per leaf bucket, the parent's metrics on each", () => {
    const rows = flattenAggregations({
      host: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 0,
        buckets: [
          {
            key: "a",
            doc_count: 3,
            bytes: { value: 30 },
            status: { buckets: [{ key: 200, doc_count: 2, avg: { value: 1.5 } }, { key: 500, doc_count: 1, avg: { value: null } }] },
          },
          { key: "b", doc_count: 1, bytes: { value: 5 }, status: { buckets: [] } },
        ],
      },
    });
    expect(rows).toEqual([
      { host: "a", bytes: 30, status: 200, doc_count: 2, avg: 1.5 },
      { host: "a", bytes: 30, status: 500, doc_count: 1, avg: null },
    ]);
  });

  it("a leaf bucket without metrics is a row with its doc_count; multi-value metrics are objects; keyed buckets take their key", () => {
    expect(flattenAggregations({ kind: { buckets: [{ key: "x", doc_count: 4 }] } })).toEqual([{ kind: "x", doc_count: 4 }]);
    expect(
      flattenAggregations({
        range: { buckets: { low: { to: 10, doc_count: 2, s: { count: 2, min: 1, max: 9, avg: 5, sum: 10, min_as_string: "1" } } } },
      }),
    ).toEqual([{ range: "low", doc_count: 2, s: { count: 2, min: 1, max: 9, avg: 5, sum: 10 } }]);
  });

  it("composite keys spread their sources; single-bucket aggregations are transparent; top-level metrics are rows", () => {
    expect(
      flattenAggregations({
        pairs: { after_key: { k: "b", c: "y" }, buckets: [{ key: { k: "a", c: "x" }, doc_count: 1, m: { value: 2 } }] },
        only_errors: { doc_count: 5, by: { buckets: [{ key: "e", doc_count: 5 }] } },
        count: { value: 42 },
        lonely: { doc_count: 7 },
      }),
    ).toEqual([{ k: "a", c: "x", doc_count: 1, m: 2 }, { by: "e", doc_count: 5 }, { count: 42 }, { "lonely.doc_count": 7 }]);
  });
});

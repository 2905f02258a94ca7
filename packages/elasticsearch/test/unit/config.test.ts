import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, Pipeline, Source } from "@pump/core";
import { describe, expect, it } from "vitest";
import { ElasticSearchAggsSource } from "../../src/aggs-source.js";
import { ElasticSearchConnection } from "../../src/connection.js";
import { ElasticSearchSink } from "../../src/sink.js";
import { ElasticSearchSource } from "../../src/source.js";
import { createApp } from "../helpers.js";

const make = (conf: string) => () => new ElasticSearchConnection(createApp(conf), "ES");

describe("configuration", () => {
  it("the connection takes BSPump's keys from its section, and url and credentials from [elasticsearch] when its own are empty", () => {
    const app = createApp("[elasticsearch]\nurl=\n  http://es1:9200;es2:9200\n  http://es3:9200\nusername=elastic\npassword=changeme\n");
    const connection = new ElasticSearchConnection(app, "ES");
    expect(connection.nodes).toEqual(["http://es1:9200", "http://es2:9200", "http://es3:9200"]);
    expect(connection.bulks.settings).toMatchObject({ loaders: 12, maxQueue: 10, maxBulkBytes: 12 * 1024 * 1024, maxBulkAge: 2, bulkLifespan: 30, retryTimeout: 0 });
    expect(connection.timeoutMs).toBe(300_000);
    const client = connection.acquire();
    expect(connection.acquire()).toBe(client);
    expect(JSON.stringify(connection.restGet())).not.toContain("changeme");
  });

  it("[connection:ES] overrides, with durations and sizes", () => {
    const app = createApp("[connection:ES]\nurl=http://es:9200\napi_key=abc\nloader_per_url=2\noutput_queue_max_size=3\nbulk_out_max_size=1000\ntimeout=5s\nmax_bulk_age=500ms\nretry_timeout=1m\n");
    const connection = new ElasticSearchConnection(app, "ES");
    expect(connection.bulks.settings).toMatchObject({ loaders: 2, maxQueue: 3, maxBulkBytes: 1000, maxBulkAge: 0.5, retryTimeout: 60 });
    expect(connection.timeoutMs).toBe(5000);
  });

  it("refuses: no URL, a URL without scheme, username with api_key, bad numbers, unreadable TLS files", () => {
    expect(make("")).toThrow(ConfigError);
    expect(make("")).toThrow(/no Elasticsearch URL/);
    expect(make("[connection:ES]\nurl=es1:9200")).toThrow(/\[connection:ES\] key 'url'.*no scheme/);
    expect(make("[connection:ES]\nurl=http://es:9200\nusername=u\napi_key=k")).toThrow(/either username.*or api_key/);
    expect(make("[connection:ES]\nurl=http://es:9200\noutput_queue_max_size=0")).toThrow(/output_queue_max_size.*at least 1/);
    expect(make("[connection:ES]\nurl=http://es:9200\ncafile=/no/such/ca.pem")).toThrow(/cafile.*cannot read/);
    expect(make("[connection:ES]\nurl=https://es:9200\nverify_mode=MAYBE")).toThrow(/verify_mode.*CERT_NONE/);
  });

  it("reads TLS files (cafile, capath)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pump-es-tls-"));
    try {
      writeFileSync(join(dir, "a.pem"), "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n");
      writeFileSync(join(dir, "notes.txt"), "not a certificate");
      const connection = new ElasticSearchConnection(createApp(`[connection:ES]\nurl=https://es:9200\ncapath=${dir}\nverify_mode=CERT_NONE\ncheck_hostname=no\n`), "ES");
      expect(connection.nodes).toEqual(["https://es:9200"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the sink: data_feeder by name, the obsolete index_prefix, a connection of the wrong kind", () => {
    const app = createApp("[connection:ES]\nurl=http://es:9200\n[pipeline:P:ElasticSearchSink]\nindex_prefix=legacy\n");
    app.pumpService.addConnection(new ElasticSearchConnection(app, "ES"));
    const pipeline = new Pipeline(app, "P");
    expect(new ElasticSearchSink(app, pipeline, "ES").index).toBe("legacy");
    expect(() => new ElasticSearchSink(app, pipeline, "ES", { id: "S2", config: { data_feeder: "upsert-ish" } })).toThrow(/data_feeder.*create_or_index, create, index, update, upsert, delete/);
  });

  it("the sink takes any object type in a typed chain (interfaces too)", () => {
    interface Order {
      id: string;
      amount: number;
    }
    class Orders extends Source<Order> {
      async main(): Promise<void> {}
    }
    const app = createApp("[connection:ES]\nurl=http://es:9200\n");
    app.pumpService.addConnection(new ElasticSearchConnection(app, "ES"));
    const pipeline = new Pipeline(app, "Typed");
    pipeline.build(new Orders(app, pipeline), new ElasticSearchSink(app, pipeline, "ES", { config: { index: "orders" } }));
    expect(pipeline.locateProcessor("ElasticSearchSink")).toBeInstanceOf(ElasticSearchSink);
  });

  it("the sources: paging, search_after needs a sort, aggregations need aggs, request_body must be a JSON object", () => {
    const app = createApp("[connection:ES]\nurl=http://es:9200\n");
    app.pumpService.addConnection(new ElasticSearchConnection(app, "ES"));
    const pipeline = new Pipeline(app, "P");
    const source = (config: Record<string, string>) => () => new ElasticSearchSource(app, pipeline, "ES", { config });
    expect(source({ paging: "sideways" })).toThrow(/paging.*pit, scroll, search_after, off/);
    expect(source({ paging: "search_after" })).toThrow(/search_after needs sort_by/);
    expect(source({ request_body: "[1]" })).toThrow(/request_body.*JSON object/);
    expect(source({ request_body: "{nope" })).toThrow(/request_body.*not JSON/);
    const s = new ElasticSearchSource(app, pipeline, "ES", { config: { timestamp: "ts", start_from: "now-5m", page_size: "50" } });
    expect(s.requestBody).toEqual({ query: { bool: { filter: [{ range: { ts: { gte: "now-5m" } } }] } }, size: 50 });
    expect(() => new ElasticSearchAggsSource(app, pipeline, "ES", { config: { request_body: '{"query":{"match_all":{}}}' } })).toThrow(/needs aggregations/);
    const aggs = new ElasticSearchAggsSource(app, pipeline, "ES", { config: { request_body: '{"aggs":{"k":{"terms":{"field":"k"}}}}' } });
    expect(aggs.requestBody).toEqual({ aggs: { k: { terms: { field: "k" } } }, size: 0 });
  });
});

// oxlint-disable no-underscore-dangle -- Elasticsearch's field names
import { errors } from "@elastic/elasticsearch";
import { Logger, logging } from "@pump/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BulkQueue, type BulkItem, type BulkOwner, type BulkResponse, type BulkSettings } from "../../src/bulk.js";
import { ElasticSearchItemError, ElasticSearchRequestError, ElasticSearchStoppedError } from "../../src/errors.js";
import { until } from "../helpers.js";

class Owner implements BulkOwner {
  readonly id = "Owner";
  readonly confirmedIds: (string | undefined)[] = [];
  readonly rejectedIds: { id: string | undefined; error: Error }[] = [];
  readonly abandonedIds: (string | undefined)[] = [];
  readonly pauses: boolean[] = [];

  confirmed(item: BulkItem): void {
    this.confirmedIds.push(item.id);
  }

  rejected(item: BulkItem, error: Error): void {
    this.rejectedIds.push({ id: item.id, error });
  }

  abandoned(item: BulkItem, _error: Error): void {
    this.abandonedIds.push(item.id);
  }

  pause(on: boolean): void {
    this.pauses.push(on);
  }
}

function makeItem(owner: BulkOwner, id: string, action = "index"): BulkItem {
  const payload = `{"${action}":{"_id":"${id}"}}\n{"id":"${id}"}\n`;
  return { payload, bytes: Buffer.byteLength(payload), owner, context: {}, event: { _id: id }, id, maybeDelivered: false, settled: false };
}

function responseError(statusCode: number, body: unknown): errors.ResponseError {
  return new errors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: { context: null, name: "es", request: { params: { method: "POST", path: "/" }, options: {}, id: 1 }, connection: null, attempts: 0, aborted: false } } as never);
}

/** Ids of the items in an NDJSON bulk body. */
function idsOf(body: string): string[] {
  return body
    .split("\n")
    .filter((line) => line.includes('"_id"'))
    .map((line) => (Object.values(JSON.parse(line))[0] as { _id: string })._id);
}

const ok = (ids: string[], action = "index"): BulkResponse => ({ errors: false, items: ids.map((_id) => ({ [action]: { status: 201, _id } })) });

const tooLarge = (ids: string[]): BulkResponse | Error => (ids.length > 2 ? responseError(413, "") : ok(ids));

type Answer = BulkResponse | Error | ((ids: string[]) => BulkResponse | Error);

/** A sender that answers from a script (then "all fine"), recording each request's ids. */
function scripted(answers: Answer[]) {
  const requests: { index: string; ids: string[] }[] = [];
  const send = async (index: string, body: string): Promise<BulkResponse> => {
    const ids = idsOf(body);
    requests.push({ index, ids });
    await new Promise((resolve) => setImmediate(resolve));
    const next = answers.shift();
    const answer = typeof next === "function" ? next(ids) : next;
    if (answer instanceof Error) throw answer;
    return answer ?? ok(ids);
  };
  return { requests, send };
}

const SETTINGS: BulkSettings = {
  maxBulkBytes: 1_000_000,
  maxQueue: 10,
  loaders: 1,
  maxBulkAge: 0,
  bulkLifespan: 30,
  retryBackoff: 0.001,
  retryBackoffMax: 0.004,
  retryTimeout: 0,
  failLogMaxSize: 20,
  logFailedDocuments: true,
};

describe("BulkQueue (the connection's bulks and loaders), with a scripted node", () => {
  const log = new Logger("test");
  let level = logging.level;
  beforeEach(() => {
    level = logging.level;
    logging.setLevel("error");
  });
  afterEach(() => logging.setLevel(level));

  it("gathers items per index into one bulk and confirms each item the node confirmed", async () => {
    const { requests, send } = scripted([]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    queue.attach(owner);
    for (const id of ["a", "b", "c"]) queue.add("one", makeItem(owner, id));
    queue.add("two", makeItem(owner, "d"));
    await queue.drained(owner);
    expect(requests.toSorted((x, y) => x.index.localeCompare(y.index))).toEqual([
      { index: "one", ids: ["a", "b", "c"] },
      { index: "two", ids: ["d"] },
    ]);
    expect(owner.confirmedIds.toSorted()).toEqual(["a", "b", "c", "d"]);
    await until(() => queue.bytes === 0 && queue.active === 0, "the loader to end");
    expect(queue.stats).toMatchObject({ confirmed: 4, rejected: 0, requests: 2 });
  });

  it("sends a bulk as soon as it reaches bulk_out_max_size bytes, never above it", async () => {
    const one = makeItem(new Owner(), "x").bytes;
    const { requests, send } = scripted([]);
    const queue = new BulkQueue({ ...SETTINGS, maxBulkBytes: one * 3, maxBulkAge: 60 }, send, log);
    const owner = new Owner();
    for (let i = 0; i < 7; i++) queue.add("i", makeItem(owner, String(i)));
    await until(() => requests.length === 2, "two full bulks sent");
    expect(requests.map((r) => r.ids)).toEqual([
      ["0", "1", "2"],
      ["3", "4", "5"],
    ]);
    queue.flush(); // what a stopping sink does: the seventh goes now, whatever its age
    await queue.drained(owner);
    expect(requests.map((r) => r.ids.length)).toEqual([3, 3, 1]);
  });

  it("per item: confirms the good ones, retries 429s and unavailable shards, rejects the rest with the item's reason", async () => {
    const { requests, send } = scripted([
      (ids) => ({
        errors: true,
        items: [
          { index: { status: 201, _id: ids[0] } },
          { index: { status: 429, _id: ids[1], error: { type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation" } } },
          { index: { status: 400, _id: ids[2], _index: "i", error: { type: "document_parsing_exception", reason: "failed to parse field [n]", caused_by: { type: "number_format_exception", reason: "For input string: \"x\"" } } } },
          { index: { status: 503, _id: ids[3], error: { type: "unavailable_shards_exception", reason: "primary shard is not active" } } },
        ],
      }),
      (ids) => ({ errors: true, items: [{ index: { status: 201, _id: ids[0] } }, { index: { status: 429, _id: ids[1], error: { type: "circuit_breaking_exception", reason: "data too large" } } }] }),
    ]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    for (const id of ["ok", "busy", "bad", "shard"]) queue.add("i", makeItem(owner, id));
    await queue.drained(owner);
    expect(requests.map((r) => r.ids)).toEqual([["ok", "busy", "bad", "shard"], ["busy", "shard"], ["shard"]]);
    expect(owner.confirmedIds).toEqual(["ok", "busy", "shard"]);
    expect(owner.rejectedIds).toHaveLength(1);
    const error = owner.rejectedIds[0]!.error as ElasticSearchItemError;
    expect(error).toBeInstanceOf(ElasticSearchItemError);
    expect(error).toMatchObject({ id: "bad", status: 400, type: "document_parsing_exception", action: "index", index: "i" });
    expect(error.reason).toBe('failed to parse field [n] (caused by number_format_exception: For input string: "x")');
    expect(queue.stats.retried).toBe(3);
  });

  it("a delete of a missing document is done; a create conflicting after a lost answer is its own earlier attempt", async () => {
    const { send } = scripted([
      new errors.TimeoutError("Request timed out"), // the node may have stored the creates
      (): BulkResponse => ({
        errors: true,
        items: [
          { create: { status: 409, _id: "c1", error: { type: "version_conflict_engine_exception", reason: "document already exists" } } },
          { delete: { status: 404, _id: "d1", result: "not_found" } },
        ],
      }),
      () => ({ errors: true, items: [{ create: { status: 409, _id: "c2", error: { type: "version_conflict_engine_exception", reason: "document already exists" } } }] }),
    ]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    queue.add("i", makeItem(owner, "c1", "create"));
    queue.add("i", makeItem(owner, "d1", "delete"));
    await queue.drained(owner);
    expect(owner.confirmedIds).toEqual(["c1", "d1"]);
    // Without a lost answer before, a conflict is someone else's document: rejected.
    queue.add("i", makeItem(owner, "c2", "create"));
    await queue.drained(owner);
    expect(owner.rejectedIds.map((r) => [r.id, (r.error as ElasticSearchItemError).status])).toEqual([["c2", 409]]);
  });

  it("whole requests that fail on the connection or with 429/502/503/504 are sent again with backoff; nothing is lost", async () => {
    const { requests, send } = scripted([
      new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200"),
      new errors.NoLivingConnectionsError("There are no living connections", {} as never),
      responseError(429, { error: { type: "es_rejected_execution_exception", reason: "too many" }, status: 429 }),
      responseError(503, { error: { type: "master_not_discovered_exception", reason: "no master" }, status: 503 }),
      responseError(502, "Bad gateway"),
      new errors.DeserializationError("Unexpected token <", "<html>"),
    ]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    for (const id of ["a", "b"]) queue.add("i", makeItem(owner, id));
    await queue.drained(owner);
    expect(requests).toHaveLength(7);
    expect(requests.every((r) => r.ids.join() === "a,b")).toBe(true);
    expect(owner.confirmedIds).toEqual(["a", "b"]);
    expect(queue.stats.requestFailures).toBe(6);
  });

  it("a whole request refused for good (400, 401, 403) rejects every item with the reason, at once", async () => {
    const { requests, send } = scripted([responseError(403, { error: { type: "security_exception", reason: "action [indices:data/write/bulk] is unauthorized" }, status: 403 })]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    for (const id of ["a", "b"]) queue.add("i", makeItem(owner, id));
    await queue.drained(owner);
    expect(requests).toHaveLength(1);
    expect(owner.rejectedIds.map((r) => r.id)).toEqual(["a", "b"]);
    const error = owner.rejectedIds[0]!.error as ElasticSearchRequestError;
    expect(error).toBeInstanceOf(ElasticSearchRequestError);
    expect(error).toMatchObject({ status: 403, type: "security_exception", retryable: false });
    expect(error.message).toMatch(/unauthorized/);
  });

  it("413 (too large for the node) splits the bulk in halves until it fits", async () => {
    const { requests, send } = scripted([tooLarge, tooLarge, tooLarge, tooLarge, tooLarge]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    for (const id of ["1", "2", "3", "4", "5", "6", "7"]) queue.add("i", makeItem(owner, id));
    await queue.drained(owner);
    expect(owner.confirmedIds.toSorted()).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect(requests.filter((r) => r.ids.length <= 2).flatMap((r) => r.ids).toSorted()).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
  });

  it("an answer that does not list every item sends the whole bulk again", async () => {
    const { requests, send } = scripted([{ errors: true, items: [{ index: { status: 201 } }] }]);
    const queue = new BulkQueue(SETTINGS, send, log);
    const owner = new Owner();
    for (const id of ["a", "b"]) queue.add("i", makeItem(owner, id));
    await queue.drained(owner);
    expect(requests.map((r) => r.ids.join())).toEqual(["a,b", "a,b"]);
    expect(owner.confirmedIds).toEqual(["a", "b"]);
  });

  it("retry_timeout: a bulk that keeps failing is given up (rejected) after that long", async () => {
    const down = new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200");
    const { send } = scripted(Array.from({ length: 10_000 }, () => down));
    const queue = new BulkQueue({ ...SETTINGS, retryTimeout: 0.05 }, send, log);
    const owner = new Owner();
    queue.add("i", makeItem(owner, "a"));
    await queue.drained(owner);
    expect(owner.rejectedIds.map((r) => r.id)).toEqual(["a"]);
    expect((owner.rejectedIds[0]!.error as ElasticSearchRequestError).retryable).toBe(true);
  });

  it("pauses the sinks while the output queue holds output_queue_max_size bulks, resumes when it drains", async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const send = async (_index: string, body: string): Promise<BulkResponse> => {
      await gate;
      return ok(idsOf(body));
    };
    const one = makeItem(new Owner(), "x").bytes;
    const queue = new BulkQueue({ ...SETTINGS, maxBulkBytes: one, maxQueue: 2, loaders: 1 }, send, log);
    const owner = new Owner();
    queue.attach(owner);
    queue.add("i", makeItem(owner, "1")); // in flight
    queue.add("i", makeItem(owner, "2")); // queued
    expect(owner.pauses).toEqual([]);
    queue.add("i", makeItem(owner, "3")); // queued: 2 → full
    expect(owner.pauses).toEqual([true]);
    expect(queue.paused).toBe(true);
    // A sink that starts now hears it at once.
    const late = new Owner();
    queue.attach(late);
    expect(late.pauses).toEqual([true]);
    release!();
    await queue.drained(owner);
    expect(owner.pauses).toEqual([true, false]);
    expect(queue.paused).toBe(false);
  });

  it("open bulks are sent after max_bulk_age seconds without a new item", async () => {
    const { requests, send } = scripted([]);
    const queue = new BulkQueue({ ...SETTINGS, maxBulkAge: 0.05 }, send, log);
    const owner = new Owner();
    queue.add("i", makeItem(owner, "a"));
    expect(requests).toHaveLength(0);
    await until(() => requests.length === 1, "the aged bulk sent", 1000, 5);
    await queue.drained(owner);
  });

  it("abandon() answers an owner's waiting items as abandoned; close() answers everything left and aborts", async () => {
    const down = new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200");
    const { send } = scripted(Array.from({ length: 100_000 }, () => down));
    const queue = new BulkQueue({ ...SETTINGS, maxBulkBytes: 1 }, send, log);
    const a = new Owner();
    const b = new Owner();
    for (const id of ["a1", "a2", "a3"]) queue.add("i", makeItem(a, id));
    for (const id of ["b1", "b2"]) queue.add("i", makeItem(b, id));
    await until(() => queue.stats.requestFailures > 2, "failures");
    expect(queue.abandon(a, new ElasticSearchStoppedError("stopped"))).toBe(3);
    expect(a.abandonedIds.toSorted()).toEqual(["a1", "a2", "a3"]);
    expect(queue.pending(a)).toBe(0);
    expect(queue.pending(b)).toBe(2);
    queue.close();
    expect(b.abandonedIds.toSorted()).toEqual(["b1", "b2"]);
    expect(queue.pending(b)).toBe(0);
    expect(a.confirmedIds).toEqual([]);
  });
});

// oxlint-disable no-underscore-dangle -- Elasticsearch's field names (_id, _index, _source, _scroll_id)
/**
 * The connection's output side, BSPump's bulks and loaders: items are gathered per index into bulks
 * bounded in bytes, a bulk goes into the output queue when it is full, has had no new item for
 * `max_bulk_age` seconds or has lived `bulk_lifespan` seconds, and `loader_per_url` loaders per node
 * send the queue to `<index>/_bulk`. Unlike BSPump, nothing is dropped: each item is confirmed,
 * retried or handed back to its sink with Elasticsearch's reason.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Context, Logger } from "@pump/core";
import { describeCause, isRetryableItem, requestError } from "./classify.js";
import { ElasticSearchItemError, ElasticSearchRequestError, ElasticSearchStoppedError } from "./errors.js";

/** Who put an item into a bulk and hears how it ended (an ElasticSearchSink). */
export interface BulkOwner {
  readonly id: string;
  /** Elasticsearch stored (or deleted) the document. */
  confirmed(item: BulkItem): void;
  /** Elasticsearch refused it for good, or retries ran out: the pipeline's error handling decides. */
  rejected(item: BulkItem, error: Error): void;
  /** The sink or the connection stopped before an answer came: the delivery fails, nothing else. */
  abandoned(item: BulkItem, error: Error): void;
  /** The output queue is full (`true`) or has room again (`false`): throttle the pipeline. */
  pause(on: boolean): void;
}

export interface BulkItem {
  /** The NDJSON lines (action, then the document if the action has one), each ending with "\n". */
  readonly payload: string;
  readonly bytes: number;
  readonly owner: BulkOwner;
  readonly context: Context;
  readonly event: unknown;
  readonly id: string | undefined;
  /** An earlier attempt may have reached Elasticsearch (its answer was lost). */
  maybeDelivered: boolean;
  settled: boolean;
}

class Bulk {
  readonly index: string;
  items: BulkItem[] = [];
  bytes = 0;
  readonly createdAt: number;
  lastAddAt: number;

  constructor(index: string, now: number) {
    this.index = index;
    this.createdAt = now;
    this.lastAddAt = now;
  }
}

export interface BulkSettings {
  /** Bytes of NDJSON after which a bulk is sent (`bulk_out_max_size`). */
  maxBulkBytes: number;
  /** Bulks waiting to be sent before sinks are throttled (`output_queue_max_size`). */
  maxQueue: number;
  /** Requests in flight at once (`loader_per_url` × nodes). */
  loaders: number;
  /** Seconds without a new item after which an open bulk is sent (`max_bulk_age`). */
  maxBulkAge: number;
  /** Seconds after its first item after which a bulk is sent anyway (`bulk_lifespan`). */
  bulkLifespan: number;
  /** First and largest pause between retries, seconds. */
  retryBackoff: number;
  retryBackoffMax: number;
  /** Seconds a bulk may keep failing before its items are given up (0: never give up). */
  retryTimeout: number;
  failLogMaxSize: number;
  logFailedDocuments: boolean;
}

export interface BulkItemResult {
  status?: number;
  error?: unknown;
  _id?: string;
  _index?: string;
  result?: string;
}

export interface BulkResponse {
  errors?: boolean;
  took?: number;
  items?: Record<string, BulkItemResult>[];
}

/** Sends one bulk body to `<index>/_bulk`; rejects with the client's error. */
export type BulkSender = (index: string, body: string, signal: AbortSignal) => Promise<BulkResponse>;

export interface BulkStats {
  /** Items Elasticsearch confirmed. */
  confirmed: number;
  /** Items given up (rejected for good, or retries ran out). */
  rejected: number;
  /** Items sent again after a retryable failure (of the item or of the whole request). */
  retried: number;
  /** Bulk requests that got an answer. */
  requests: number;
  /** Bulk requests that failed as a whole. */
  requestFailures: number;
  /** Times the output queue filled up and sinks were throttled. */
  throttled: number;
}

interface OwnerState {
  pending: number;
  waiters: (() => void)[];
}

export class BulkQueue {
  readonly settings: BulkSettings;
  readonly stats: BulkStats = { confirmed: 0, rejected: 0, retried: 0, requests: 0, requestFailures: 0, throttled: 0 };
  readonly #send: BulkSender;
  readonly #log: Logger;
  readonly #open = new Map<string, Bulk>();
  readonly #queue: Bulk[] = [];
  readonly #owners = new Map<BulkOwner, OwnerState>();
  /** Sinks that hear `pause()`. */
  readonly #listeners = new Set<BulkOwner>();
  readonly #inflightItems = new Set<BulkItem>();
  #openBytes = 0;
  #queuedBytes = 0;
  #inflightBytes = 0;
  #active = 0;
  #paused = false;
  /** When requests began to fail (performance.now()), while they fail. */
  #failingSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort = new AbortController();
  #closed = false;

  constructor(settings: BulkSettings, send: BulkSender, log: Logger) {
    this.settings = settings;
    this.#send = send;
    this.#log = log;
  }

  /** Bytes held: in open bulks, in the queue and in flight. */
  get bytes(): number {
    return this.#openBytes + this.#queuedBytes + this.#inflightBytes;
  }

  /** Bulks waiting in the output queue (not the open ones, not those in flight). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Requests in flight (including those waiting to retry). */
  get active(): number {
    return this.#active;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Items of this owner not yet confirmed nor given up. */
  pending(owner: BulkOwner): number {
    return this.#owners.get(owner)?.pending ?? 0;
  }

  /** A sink that will add items; it hears `pause()` from now on (at once if the queue is full). */
  attach(owner: BulkOwner): void {
    if (this.#closed) this.#reopen();
    if (!this.#owners.has(owner)) this.#owners.set(owner, { pending: 0, waiters: [] });
    this.#listeners.add(owner);
    if (this.#paused) owner.pause(true);
  }

  /** The sink stopped: it hears no more `pause()`. */
  detach(owner: BulkOwner): void {
    this.#listeners.delete(owner);
    owner.pause(false);
  }

  add(index: string, item: BulkItem): void {
    const state = this.#owners.get(item.owner) ?? { pending: 0, waiters: [] };
    if (!this.#owners.has(item.owner)) this.#owners.set(item.owner, state);
    state.pending++;
    const now = performance.now();
    let bulk = this.#open.get(index);
    if (bulk !== undefined && bulk.bytes + item.bytes > this.settings.maxBulkBytes) {
      this.#open.delete(index);
      this.#enqueue(bulk);
      bulk = undefined;
    }
    if (bulk === undefined) {
      bulk = new Bulk(index, now);
      this.#open.set(index, bulk);
    }
    bulk.items.push(item);
    bulk.bytes += item.bytes;
    bulk.lastAddAt = now;
    this.#openBytes += item.bytes;
    if (bulk.bytes >= this.settings.maxBulkBytes) {
      this.#open.delete(index);
      this.#enqueue(bulk);
    } else {
      this.#schedule();
    }
    this.#updatePause();
  }

  /** Sends every open bulk now, whatever its age (a sink stopping, BSPump's forced flush). */
  flush(): void {
    for (const bulk of this.#open.values()) this.#enqueue(bulk);
    this.#open.clear();
    this.#updatePause();
  }

  /** Resolves when every item of `owner` is confirmed or given up. */
  drained(owner: BulkOwner): Promise<void> {
    const state = this.#owners.get(owner);
    if (state === undefined || state.pending === 0) return Promise.resolve();
    return new Promise((resolve) => state.waiters.push(resolve));
  }

  /**
   * Gives up the items of `owner` that are still waiting (the sink's flush timeout passed): those
   * not yet sent are taken out, those in flight are answered now and their late answer ignored.
   */
  abandon(owner: BulkOwner, error: Error): number {
    let count = 0;
    const strip = (bulk: Bulk): number => {
      let bytes = 0;
      bulk.items = bulk.items.filter((item) => {
        if (item.owner !== owner) return true;
        bytes += item.bytes;
        if (!item.settled) {
          count++;
          this.#settle(item, () => owner.abandoned(item, error));
        }
        return false;
      });
      bulk.bytes -= bytes;
      return bytes;
    };
    for (const [index, bulk] of this.#open) {
      this.#openBytes -= strip(bulk);
      if (bulk.items.length === 0) this.#open.delete(index);
    }
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const bulk = this.#queue[i]!;
      this.#queuedBytes -= strip(bulk);
      if (bulk.items.length === 0) this.#queue.splice(i, 1);
    }
    // In flight: answered now; the loader skips settled items and drops their bytes when it ends.
    const state = this.#owners.get(owner);
    if (state !== undefined && state.pending > 0) {
      for (const item of this.#inflightItems) {
        if (item.owner === owner && !item.settled) {
          count++;
          this.#settle(item, () => owner.abandoned(item, error));
        }
      }
    }
    this.#updatePause();
    return count;
  }

  /** Stops: requests in flight are aborted and every item still held is given up as abandoned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const error = new ElasticSearchStoppedError("the Elasticsearch connection closed before Elasticsearch confirmed the event");
    const left = [...this.#open.values(), ...this.#queue].flatMap((bulk) => bulk.items);
    this.#open.clear();
    this.#queue.length = 0;
    this.#openBytes = 0;
    this.#queuedBytes = 0;
    for (const item of [...left, ...this.#inflightItems]) if (!item.settled) this.#settle(item, () => item.owner.abandoned(item, error));
    this.#updatePause();
  }

  #reopen(): void {
    this.#closed = false;
    this.#abort = new AbortController();
  }

  #enqueue(bulk: Bulk, front = false): void {
    this.#openBytes -= bulk.bytes;
    this.#queuedBytes += bulk.bytes;
    if (front) this.#queue.unshift(bulk);
    else this.#queue.push(bulk);
    this.#pump();
  }

  #updatePause(): void {
    const limit = this.settings.maxQueue;
    const full = !this.#closed && (this.#queue.length >= limit || this.#openBytes + this.#queuedBytes >= limit * this.settings.maxBulkBytes);
    if (full === this.#paused) return;
    this.#paused = full;
    if (full) this.stats.throttled++;
    for (const owner of this.#listeners) owner.pause(full);
  }

  /** The age check runs while there are open bulks (and only then holds the process open). */
  #schedule(): void {
    if (this.#timer !== undefined || this.#open.size === 0 || this.#closed) return;
    const { maxBulkAge, bulkLifespan } = this.settings;
    const period = Math.min(1, Math.max(0, Math.min(maxBulkAge, bulkLifespan) / 2));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#age();
      this.#schedule();
    }, period * 1000);
  }

  #age(): void {
    const now = performance.now();
    const idle = this.settings.maxBulkAge * 1000;
    const life = this.settings.bulkLifespan * 1000;
    let moved = false;
    for (const [index, bulk] of this.#open) {
      if (now - bulk.lastAddAt >= idle || now - bulk.createdAt >= life) {
        this.#open.delete(index);
        this.#enqueue(bulk);
        moved = true;
      }
    }
    if (moved) this.#updatePause();
  }

  #pump(): void {
    while (this.#active < this.settings.loaders && this.#queue.length > 0 && !this.#closed) {
      const bulk = this.#queue.shift()!;
      this.#queuedBytes -= bulk.bytes;
      this.#inflightBytes += bulk.bytes;
      for (const item of bulk.items) this.#inflightItems.add(item);
      this.#active++;
      this.#load(bulk)
        .catch((error: unknown) => this.#log.error("Elasticsearch bulk loader failed", { error }))
        .finally(() => {
          this.#active--;
          this.#inflightBytes -= bulk.bytes;
          for (const item of bulk.items) this.#inflightItems.delete(item);
          this.#updatePause();
          this.#pump();
        });
    }
    this.#updatePause();
  }

  #settle(item: BulkItem, report: () => void): void {
    if (item.settled) return;
    item.settled = true;
    try {
      report();
    } catch (error) {
      this.#log.error("Settling an Elasticsearch item failed", { component: item.owner.id, error });
    }
    const state = this.#owners.get(item.owner);
    if (state === undefined) return;
    if (--state.pending === 0) {
      const waiters = state.waiters.splice(0);
      for (const wake of waiters) wake();
    }
  }

  async #sleep(seconds: number): Promise<boolean> {
    try {
      await delay(seconds * 1000, undefined, { signal: this.#abort.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** One loader's work on one bulk: send, sort the answer per item, retry what may succeed later. */
  async #load(bulk: Bulk): Promise<void> {
    const s = this.settings;
    let items = bulk.items;
    let backoff = s.retryBackoff;
    let failingSince: number | undefined;
    let lastError: Error | undefined;
    for (;;) {
      items = items.filter((item) => !item.settled);
      if (items.length === 0) return;
      if (this.#closed) return; // close() answered them
      if (failingSince !== undefined && s.retryTimeout > 0 && performance.now() - failingSince >= s.retryTimeout * 1000) {
        this.#giveUp(bulk.index, items, lastError!);
        return;
      }
      let response: BulkResponse;
      const sentAt = performance.now();
      try {
        response = await this.#send(bulk.index, items.map((item) => item.payload).join(""), this.#abort.signal);
      } catch (thrown) {
        if (this.#closed) return;
        const error = requestError(thrown, `Bulk of ${items.length} document(s) to '${bulk.index}'`);
        this.stats.requestFailures++;
        if (error.status === 413 && items.length > 1) {
          // Too large for the node's http.max_content_length: send it in halves.
          const half = Math.ceil(items.length / 2);
          const rest = new Bulk(bulk.index, performance.now());
          rest.items = items.slice(half);
          for (const item of rest.items) {
            rest.bytes += item.bytes;
            this.#inflightItems.delete(item);
          }
          bulk.bytes -= rest.bytes;
          this.#inflightBytes -= rest.bytes;
          this.#openBytes += rest.bytes; // #enqueue moves them from "open" to "queued"
          this.#enqueue(rest, true);
          items = items.slice(0, half);
          this.#log.warn("Elasticsearch refused a bulk as too large; sending it in halves", { index: bulk.index, documents: items.length + rest.items.length });
          continue;
        }
        if (!error.retryable) {
          this.#giveUp(bulk.index, items, error);
          return;
        }
        for (const item of items) if (error.maybeDelivered) item.maybeDelivered = true;
        lastError = error;
        failingSince ??= performance.now();
        this.stats.retried += items.length;
        if (this.#failingSince === undefined) {
          this.#failingSince = performance.now();
          this.#log.warn("Elasticsearch is not available; the bulk waits and is sent again", { error, documents: items.length });
        } else {
          this.#log.debug("Elasticsearch is still not available", { error: error.message, retryIn: backoff });
        }
        if (!(await this.#sleep(backoff))) return;
        backoff = Math.min(backoff * 2, s.retryBackoffMax);
        continue;
      }
      this.stats.requests++;
      // Recovered only if a request sent after the failures began went through (not one answered just before).
      if (this.#failingSince !== undefined && sentAt > this.#failingSince) {
        this.#failingSince = undefined;
        this.#log.notice("Elasticsearch is available again", { index: bulk.index });
      }
      const retry = this.#sort(bulk.index, items, response);
      if (retry.length === 0) return;
      this.stats.retried += retry.length;
      items = retry;
      failingSince ??= performance.now();
      lastError = new ElasticSearchRequestError(`Elasticsearch kept refusing ${retry.length} document(s) of a bulk to '${bulk.index}' as overloaded or not ready`, { retryable: true, status: 429 });
      this.#log.debug("Elasticsearch asked to retry documents of a bulk later", { index: bulk.index, documents: retry.length, retryIn: backoff });
      if (!(await this.#sleep(backoff))) return;
      backoff = Math.min(backoff * 2, s.retryBackoffMax);
    }
  }

  /** Confirms, rejects or keeps for a retry each item of an answered bulk; returns the ones to retry. */
  #sort(index: string, items: BulkItem[], response: BulkResponse): BulkItem[] {
    if (response.errors === false) {
      for (const item of items) this.#settle(item, () => item.owner.confirmed(item));
      this.stats.confirmed += items.length;
      return [];
    }
    const results = response.items;
    if (!Array.isArray(results) || results.length !== items.length) {
      // Nothing to match the answer to the items: send them all again (at least once, maybe twice).
      this.#log.warn("Elasticsearch's bulk answer does not list every document; sending the bulk again", { index, documents: items.length, answered: results?.length });
      for (const item of items) item.maybeDelivered = true;
      return items;
    }
    const retry: BulkItem[] = [];
    const failed: { item: BulkItem; error: ElasticSearchItemError }[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const entry = results[i]!;
      const action = Object.keys(entry)[0] ?? "index";
      const result = entry[action] ?? {};
      const status = typeof result.status === "number" ? result.status : 500;
      if (
        (status >= 200 && status < 300) ||
        (action === "delete" && status === 404) ||
        (action === "create" && status === 409 && item.maybeDelivered)
      ) {
        // A delete of a missing document leaves what was asked for; a create that conflicts after a
        // lost answer conflicts with its own earlier attempt.
        this.#settle(item, () => item.owner.confirmed(item));
        this.stats.confirmed++;
        continue;
      }
      const cause = describeCause(result.error ?? `status ${status}`);
      if (isRetryableItem(status, cause.type)) {
        retry.push(item);
        continue;
      }
      failed.push({
        item,
        error: new ElasticSearchItemError({ action, index: result._index ?? index, id: result._id ?? item.id, status, type: cause.type, reason: cause.reason }),
      });
    }
    if (failed.length > 0) {
      const s = this.settings;
      const shown = failed.slice(0, s.failLogMaxSize).map(({ item, error }) => ({
        id: error.id,
        status: error.status,
        type: error.type,
        reason: error.reason,
        ...(s.logFailedDocuments ? { document: item.payload.length > 2000 ? `${item.payload.slice(0, 2000)}…` : item.payload.trimEnd() } : {}),
      }));
      this.#log.warn("Elasticsearch rejected documents of a bulk", { index, rejected: failed.length, documents: items.length, items: shown });
      this.stats.rejected += failed.length;
      for (const { item, error } of failed) this.#settle(item, () => item.owner.rejected(item, error));
    }
    return retry;
  }

  #giveUp(index: string, items: BulkItem[], cause: Error): void {
    this.#log.error("Giving up a bulk to Elasticsearch", { index, documents: items.length, error: cause });
    this.stats.rejected += items.length;
    for (const item of items) this.#settle(item, () => item.owner.rejected(item, cause));
  }
}

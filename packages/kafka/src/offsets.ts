/**
 * At-least-once bookkeeping of a consumer: which offsets of each partition were handed to the
 * pipeline, which of them the pipeline settled, and so what may be committed.
 *
 * A `Lane` is one partition as read since the last (re)assignment or rewind: a core `CommitWindow`
 * over the offsets handed over, in read order. Each record carries a `Delivery` whose token points
 * back at its lane. A record settled *done* moves the window; its commit point + 1 is committed.
 * A record settled *failed* is never settled in the window, so nothing at or after it is committed;
 * the lane stops taking records (its partition is paused), waits until every record it handed over
 * has settled, then is replaced by a fresh lane and the partition is read again from its commit point
 * (the failed record first). A rebalance or a consumer restart drops every lane: records still in
 * the pipeline then settle into nothing, and the partition is read again from what was committed.
 */
import { CommitWindow, Delivery } from "@pump/core";
import type { TopicPartition } from "./client.js";

const key = (topic: string, partition: number): string => `${partition}:${topic}`;

/**
 * reading: takes records. rewinding: a delivery failed, waits for the rest to settle. rewound: replaced
 * by a fresh lane that reads again from its commit point. dropped: forgotten by a rebalance or a
 * consumer restart (what it handed over settles into nothing).
 */
export type LaneState = "reading" | "rewinding" | "rewound" | "dropped";

export class Lane implements TopicPartition {
  readonly topic: string;
  readonly partition: number;
  /** `partition:topic`: the partition's key in maps (made once, not per record). */
  readonly key: string;
  readonly window = new CommitWindow();
  state: LaneState = "reading";
  /** The first offset handed over in this lane. */
  start: number | undefined;
  /** The last offset handed over in this lane (-1 before the first). */
  last = -1;
  /** Records handed over and not settled yet. */
  pending = 0;
  /** The lowest offset whose delivery failed. */
  failedAt: number | undefined;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = key(topic, partition);
  }

  /** Where reading must start again so that nothing unsettled is skipped. */
  get resumeAt(): number {
    const committed = this.window.committed;
    if (committed !== undefined) return committed + 1;
    return this.start ?? 0;
  }
}

export interface RecordToken {
  readonly lane: Lane;
  readonly offset: number;
}

/** What the tracker asks of its consumer. */
export interface LaneHost {
  /** `offset` (the next to read) of the partition may be committed. */
  commit(partition: TopicPartition, offset: number): void;
  /** A delivery failed: stop fetching the partition. */
  pause(partition: TopicPartition): void;
  /** Read the partition again from `offset`, and fetch it again. */
  rewind(partition: TopicPartition, offset: number): void;
  /** The first failed delivery of a lane (later ones of the same lane are only counted). */
  failed(partition: TopicPartition, offset: number, error: unknown): void;
}

export interface TrackerStats {
  /** Records handed to the pipeline. */
  handedOver: number;
  /** Settled done. */
  done: number;
  /** Settled failed. */
  failed: number;
  /** Settled after their lane was dropped (rebalance, consumer restart): they will be read again. */
  orphaned: number;
  /** Partitions read again after a failed delivery. */
  rewinds: number;
  /** Times every lane was dropped. */
  resets: number;
}

export class OffsetTracker {
  readonly #lanes = new Map<string, Lane>();
  readonly #host: LaneHost;
  /** While the source drains (the pipeline stops), failures do not rewind: nothing more is read. */
  draining = false;
  readonly stats: TrackerStats = { handedOver: 0, done: 0, failed: 0, orphaned: 0, rewinds: 0, resets: 0 };

  constructor(host: LaneHost) {
    this.#host = host;
  }

  /** The live lane of a partition, created on first use. */
  lane(topic: string, partition: number): Lane {
    const k = key(topic, partition);
    let lane = this.#lanes.get(k);
    if (lane === undefined) {
      lane = new Lane(topic, partition);
      this.#lanes.set(k, lane);
    }
    return lane;
  }

  /** True while `lane` is the partition's live lane and takes records. */
  accepts(lane: Lane): boolean {
    return lane.state === "reading" && this.#lanes.get(lane.key) === lane;
  }

  /** Hands `offset` over: the returned delivery must travel with the record's event. */
  track(lane: Lane, offset: number): Delivery<RecordToken> {
    lane.window.add(offset);
    lane.start ??= offset;
    lane.last = offset;
    lane.pending++;
    this.stats.handedOver++;
    return new Delivery<RecordToken>(this.#settle, { lane, offset });
  }

  /** Records handed over and not settled, in live lanes. */
  get pending(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.pending;
    return n;
  }

  /** Live lanes (for views and tests). */
  lanes(): Lane[] {
    return [...this.#lanes.values()];
  }

  /** Drops every lane (rebalance, consumer restart): what they still hold settles into nothing. */
  reset(): void {
    for (const lane of this.#lanes.values()) lane.state = "dropped";
    this.#lanes.clear();
    this.stats.resets++;
  }

  readonly #settle = (delivery: Delivery<RecordToken>, error: unknown): void => {
    const { lane, offset } = delivery.token;
    if (lane.state === "dropped" || lane.state === "rewound") {
      this.stats.orphaned++;
      return;
    }
    lane.pending--;
    if (error === undefined) {
      this.stats.done++;
      const moved = lane.window.settle(offset);
      if (moved !== undefined) this.#host.commit(lane, moved + 1);
    } else {
      this.stats.failed++;
      if (lane.failedAt === undefined || offset < lane.failedAt) lane.failedAt = offset;
      if (lane.state === "reading") {
        lane.state = "rewinding";
        this.#host.failed(lane, offset, error);
        this.#host.pause(lane);
      }
    }
    if (lane.state === "rewinding" && lane.pending === 0 && !this.draining) this.#rewind(lane);
  };

  #rewind(lane: Lane): void {
    lane.state = "rewound";
    this.#lanes.delete(lane.key);
    this.stats.rewinds++;
    this.#host.rewind(lane, lane.resumeAt);
  }
}

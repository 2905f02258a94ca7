import { describe, expect, it } from "vitest";
import { OffsetTracker, type LaneHost, type TopicPartition } from "../../src/index.js";

function host() {
  const log: string[] = [];
  const h: LaneHost = {
    commit: (tp: TopicPartition, offset: number) => log.push(`commit ${tp.partition}@${offset}`),
    pause: (tp) => log.push(`pause ${tp.partition}`),
    rewind: (tp, offset) => log.push(`rewind ${tp.partition}@${offset}`),
    failed: (tp, offset) => log.push(`failed ${tp.partition}@${offset}`),
  };
  return { log, host: h };
}

describe("OffsetTracker", () => {
  it("commits offset+1 of the last record settled without a gap, whatever order they settle in", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    const lane = tracker.lane("t", 0);
    const d = [10, 11, 12, 13].map((o) => tracker.track(lane, o));
    d[1]!.done();
    d[3]!.done();
    expect(log).toEqual([]);
    d[0]!.done();
    expect(log).toEqual(["commit 0@12"]);
    d[2]!.done();
    expect(log).toEqual(["commit 0@12", "commit 0@14"]);
    expect(tracker.pending).toBe(0);
  });

  it("keeps partitions apart", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    const a = tracker.track(tracker.lane("t", 0), 5);
    const b = tracker.track(tracker.lane("t", 1), 7);
    b.done();
    a.done();
    expect(log).toEqual(["commit 1@8", "commit 0@6"]);
  });

  it("never commits past a failed record: pauses, waits for the rest of the lane, then rewinds to it", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    const lane = tracker.lane("t", 0);
    const d = [0, 1, 2, 3, 4].map((o) => tracker.track(lane, o));
    d[0]!.done();
    d[2]!.fail(new Error("sink gave up"));
    expect(log).toEqual(["commit 0@1", "failed 0@2", "pause 0"]);
    expect(tracker.accepts(lane)).toBe(false);
    d[3]!.done();
    d[4]!.fail(new Error("again")); // only counted
    expect(log).toEqual(["commit 0@1", "failed 0@2", "pause 0"]);
    d[1]!.done(); // the last one pending: commit up to the failure, then read again from it
    expect(log).toEqual(["commit 0@1", "failed 0@2", "pause 0", "commit 0@2", "rewind 0@2"]);
    const fresh = tracker.lane("t", 0);
    expect(fresh).not.toBe(lane);
    expect(tracker.accepts(fresh)).toBe(true);
    tracker.track(fresh, 2).done();
    expect(log.at(-1)).toBe("commit 0@3");
    expect(tracker.stats).toMatchObject({ handedOver: 6, done: 4, failed: 2, rewinds: 1 });
  });

  it("rewinds to the lane's first offset when nothing before the failure was settled", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    const lane = tracker.lane("t", 3);
    const d = [40, 41].map((o) => tracker.track(lane, o));
    d[0]!.fail(new Error("x"));
    d[1]!.done();
    expect(log).toEqual(["failed 3@40", "pause 3", "rewind 3@40"]);
  });

  it("does not rewind while draining (the pump stops: the failed record is read again on the next start)", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    tracker.draining = true;
    tracker.track(tracker.lane("t", 0), 0).fail(new Error("x"));
    expect(log).toEqual(["failed 0@0", "pause 0"]);
  });

  it("after a reset (rebalance), what was handed over settles into nothing", () => {
    const { log, host: h } = host();
    const tracker = new OffsetTracker(h);
    const d = tracker.track(tracker.lane("t", 0), 9);
    tracker.reset();
    d.done();
    expect(log).toEqual([]);
    expect(tracker.stats.orphaned).toBe(1);
    expect(tracker.pending).toBe(0);
    tracker.track(tracker.lane("t", 0), 5).done(); // read again from the committed offset: a new lane
    expect(log).toEqual(["commit 0@6"]);
  });
});

/**
 * Turns settlements that arrive in any order into a commit point that only moves forward over
 * positions settled without a gap — how a Kafka partition's offset or a file's line may be committed.
 * Positions must be added in read order (strictly increasing).
 */
export class CommitWindow {
  /** Position → settled?, in read order (Map keeps insertion order). */
  readonly #open = new Map<number, boolean>();
  #committed: number | undefined;
  #last = -Infinity;

  /** The highest position such that it and everything read before it are settled. */
  get committed(): number | undefined {
    return this.#committed;
  }

  /** Positions read and not yet committed. */
  get size(): number {
    return this.#open.size;
  }

  add(position: number): void {
    if (position <= this.#last) throw new RangeError(`CommitWindow: position ${position} is not after ${this.#last}`);
    this.#last = position;
    this.#open.set(position, false);
  }

  /** Marks one position settled; returns the new commit point if it moved, else undefined. */
  settle(position: number): number | undefined {
    if (this.#open.get(position) !== false) throw new RangeError(`CommitWindow: position ${position} is not open`);
    this.#open.set(position, true);
    let moved: number | undefined;
    for (const [open, settled] of this.#open) {
      if (!settled) break;
      this.#open.delete(open);
      moved = open;
    }
    if (moved !== undefined) this.#committed = moved;
    return moved;
  }

  /** Forgets open positions (e.g. a partition revoked by a rebalance). */
  clear(): void {
    this.#open.clear();
  }
}

/**
 * Turns settlements that arrive in any order into a commit point that only moves forward over
 * positions settled without a gap — how a Kafka partition's offset or a file's line may be committed.
 * Positions must be added in read order (strictly increasing).
 *
 * Settlements usually come in read order (a sink confirms what it wrote in order): settling the
 * oldest open position is the fast path, with no allocation and no search. A position settled
 * ahead of a gap waits in a set until the gap closes.
 */
export class CommitWindow {
  /** Positions read, in read order; those before `#head` are committed. */
  #positions: number[] = [];
  #head = 0;
  /** Open positions settled while an older one is still open. */
  readonly #ahead = new Set<number>();
  #committed: number | undefined;
  #last = -Infinity;

  /** The highest position such that it and everything read before it are settled. */
  get committed(): number | undefined {
    return this.#committed;
  }

  /** Positions read and not yet committed. */
  get size(): number {
    return this.#positions.length - this.#head;
  }

  add(position: number): void {
    if (position <= this.#last) throw new RangeError(`CommitWindow: position ${position} is not after ${this.#last}`);
    this.#last = position;
    this.#positions.push(position);
  }

  /** Marks one position settled; returns the new commit point if it moved, else undefined. */
  settle(position: number): number | undefined {
    const positions = this.#positions;
    let head = this.#head;
    if (positions[head] !== position) {
      if (this.#ahead.has(position) || !this.#isOpen(position)) throw new RangeError(`CommitWindow: position ${position} is not open`);
      this.#ahead.add(position);
      return undefined;
    }
    head++;
    if (this.#ahead.size > 0) while (head < positions.length && this.#ahead.delete(positions[head]!)) head++;
    const moved = positions[head - 1]!;
    this.#committed = moved;
    // drop the committed prefix: at once when nothing is open, else once it is half of the array
    if (head === positions.length) {
      positions.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= positions.length) {
      positions.splice(0, head);
      head = 0;
    }
    this.#head = head;
    return moved;
  }

  /** Forgets open positions (e.g. a partition revoked by a rebalance). */
  clear(): void {
    this.#positions = [];
    this.#head = 0;
    this.#ahead.clear();
  }

  /** Binary search among the open positions (they are increasing). */
  #isOpen(position: number): boolean {
    const positions = this.#positions;
    let lo = this.#head;
    let hi = positions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = positions[mid]!;
      if (at === position) return true;
      if (at < position) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

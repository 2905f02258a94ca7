/**
 * A clock a test moves by hand. The test application reads its time from it, and `advance()` ticks
 * the application once per second passed, so tick-driven components (aggregator timeouts,
 * analyzers on the clock, lookup refresh) run without waiting.
 */
export class ManualClock {
  /** Epoch seconds. */
  now: number;
  readonly #onSecond: () => void;

  constructor(now: number, onSecond: () => void) {
    this.now = now;
    this.#onSecond = onSecond;
  }

  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new RangeError(`ManualClock.advance: seconds must be >= 0, got ${seconds}`);
    const target = this.now + seconds;
    while (Math.floor(this.now) < Math.floor(target)) {
      this.now = Math.floor(this.now) + 1;
      this.#onSecond();
    }
    this.now = target;
  }
}

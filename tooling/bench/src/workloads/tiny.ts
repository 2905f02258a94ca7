// W2's five trivial processors and event source, shared by the baseline loop and the pump
// pipeline (and reused by W4's plain pipeline).
import { Processor, Source, type Context } from "@pump/core";

export interface Tiny {
  n: number;
}

export const inc = (e: Tiny): Tiny => {
  e.n += 1;
  return e;
};
export const double = (e: Tiny): Tiny => {
  e.n *= 2;
  return e;
};
/** A filter that keeps everything (the test is never true). */
export const keepAll = (e: Tiny): Tiny | null => (e.n < 0 ? null : e);
export const dec = (e: Tiny): Tiny => {
  e.n -= 1;
  return e;
};
export const mask = (e: Tiny): Tiny => {
  e.n &= 0x3fffffff;
  return e;
};

/** What one event contributes to the checksum, after all five. */
export function expectedSum(events: number): number {
  let sum = 0;
  for (let i = 0; i < events; i++) sum += ((i + 1) * 2 - 1) & 0x3fffffff;
  return sum;
}

export const BATCH = 1024;

/** A batch of fresh events numbered from `from`. */
export function makeBatch(from: number, count: number): Tiny[] {
  const batch: Tiny[] = [];
  for (let k = 0; k < count; k++) batch.push({ n: from + k });
  return batch;
}

export class Inc extends Processor<Tiny, Tiny> {
  process(_c: Context, e: Tiny): Tiny {
    return inc(e);
  }
}
export class Double extends Processor<Tiny, Tiny> {
  process(_c: Context, e: Tiny): Tiny {
    return double(e);
  }
}
export class KeepAll extends Processor<Tiny, Tiny> {
  process(_c: Context, e: Tiny): Tiny | null {
    return keepAll(e);
  }
}
export class Dec extends Processor<Tiny, Tiny> {
  process(_c: Context, e: Tiny): Tiny {
    return dec(e);
  }
}
export class Mask extends Processor<Tiny, Tiny> {
  process(_c: Context, e: Tiny): Tiny {
    return mask(e);
  }
}

/**
 * Makes `total` events in batches of `BATCH`, one `processBatch` each; `contexts` (optional) makes
 * the context of event i. Resolves `done` once the last batch went through.
 */
export class TinySource extends Source<Tiny> {
  total = 0;
  contexts: ((index: number) => Context) | undefined;
  done: () => void = () => {};

  async main(): Promise<void> {
    const make = this.contexts;
    for (let i = 0; i < this.total; i += BATCH) {
      const count = Math.min(BATCH, this.total - i);
      const batch = makeBatch(i, count);
      if (make === undefined) {
        await this.processBatch(batch);
      } else {
        const contexts: Context[] = [];
        for (let k = 0; k < count; k++) contexts.push(make(i + k));
        await this.processBatch(batch, contexts);
      }
    }
    this.done();
  }
}

import { ConformanceBreach } from "../../errors.js";
import { until } from "../until.js";

/** One check of the conformance kit: register it with the test runner (`it(c.name, c.run)`). */
export interface ConformanceCase {
  readonly name: string;
  /** Resolves when the component keeps the contract; throws a `ConformanceBreach` saying how it does not. */
  run(): Promise<void>;
}

/** Event numbers `from` … `from + count - 1`. */
export const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, k) => from + k);

/** What every case of a kit uses: a breach naming the component, and a wait that gives up with one. */
export function caseTools(component: string, giveUpMs = 60_000) {
  const breach = (message: string): ConformanceBreach => new ConformanceBreach(component, message);
  const wait = (condition: () => boolean | Promise<boolean>, what: string): Promise<void> =>
    until(condition, what, { giveUpMs }).catch(() => {
      throw breach(`gave up waiting: ${what}`);
    });
  return { breach, wait };
}

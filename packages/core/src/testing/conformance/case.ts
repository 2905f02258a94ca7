import { ConformanceBreach } from "../../errors.js";
import { until } from "../until.js";

/** One check of the conformance kit: register it with the test runner (`it(c.name, c.run)`). */
export interface ConformanceCase<C extends string = string> {
  /** Which part of the contract it checks (the key a subject's `notApplicable` names). */
  readonly contract: C;
  readonly name: string;
  /** Resolves when the component keeps the contract; throws a `ConformanceBreach` saying how it does not. */
  run(): Promise<void>;
}

/**
 * Parts of a contract that cannot hold for a component by its nature, each with the reason (a broker
 * refuses no body; a file has no connection to drop; a TCP stream has nothing to acknowledge): those
 * cases are left out, and the reason stays in the test for the reader.
 */
export type NotApplicable<C extends string> = Partial<Readonly<Record<C, string>>>;

/** The cases whose contract the subject does not declare not applicable. */
export function applicable<C extends string>(cases: ConformanceCase<C>[], notApplicable: NotApplicable<C> | undefined): ConformanceCase<C>[] {
  return notApplicable === undefined ? cases : cases.filter((c) => notApplicable[c.contract] === undefined);
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

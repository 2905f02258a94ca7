/** One check of the conformance kit: register it with the test runner (`it(c.name, c.run)`). */
export interface ConformanceCase {
  readonly name: string;
  /** Resolves when the component keeps the contract; throws a `ConformanceBreach` saying how it does not. */
  run(): Promise<void>;
}

import { afterEach, beforeEach } from "vitest";
import { logging, type LogRecord } from "@pump/core";

// Keep test output readable: records are kept per test and printed only when PUMP_TEST_LOGS is set.
export const records: LogRecord[] = [];
beforeEach(() => {
  records.length = 0;
  if (process.env.PUMP_TEST_LOGS === undefined) logging.setWriter((record) => records.push(record));
});
afterEach(() => {
  logging.setWriter(undefined);
  logging.setLevel("notice");
});

import { afterEach, beforeEach } from "vitest";
import { logging, type LogRecord } from "@pump/core";

// Keep test output readable: records are kept per test and printed only when PUMP_TEST_LOGS is set.
const records: LogRecord[] = [];
beforeEach(() => {
  records.length = 0;
  if (process.env.PUMP_TEST_LOGS === undefined) logging.setWriter((record) => records.push(record));
  else logging.setLevel(process.env.PUMP_TEST_LOGS as "debug" | "info" | "notice" | "warn" | "error");
});
afterEach(() => {
  logging.setWriter(undefined);
  logging.setLevel("notice");
});

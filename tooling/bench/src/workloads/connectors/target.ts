// Issue 10's target for every connector: the pump reaches at least 85% of its server's own client.
import type { Row, Verdict } from "../../workload.ts";

export const TARGET_RATIO = 0.85;

export function judgeAgainstClient(row: Row): Verdict {
  const fast = row.ratio !== null && row.ratio >= TARGET_RATIO;
  return { target: `≥${TARGET_RATIO}×`, pass: fast, notes: fast ? [] : [`ratio ${row.ratio?.toFixed(2)} < ${TARGET_RATIO}`] };
}

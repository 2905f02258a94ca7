// A connector workload registered before it is written: the harness skips it with its `todo`.
import type { Workload } from "../../workload.ts";

export function planned(id: string, title: string, requires: string): Workload {
  return {
    id,
    title,
    description: `${title}: the connector against its server (${requires}). Not written yet.`,
    requires,
    todo: "no workload written yet for this connector (issue 10, part 5)",
    variants: ["baseline", "pump"],
    baseline: "baseline",
    events: 1_000_000,
    run: () => Promise.reject(new Error(`${id} has no workload yet`)),
  };
}

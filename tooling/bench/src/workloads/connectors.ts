// Connector workloads: one per connector package, each measured against its real server (started
// with tooling/servers/servers.sh). A workload names the variable that locates its server in
// `requires`; while that variable is unset the harness skips it with a message saying so.
//
// To add one: write `run(variant, params)` for "baseline" (the server's own client in a plain loop)
// and "pump" (the connector's source or sink in a pipeline), add @pump/<connector> to this
// package's dependencies, drop `todo` and judge the ratio.
import type { Workload } from "../workload.ts";

function planned(id: string, title: string, requires: string): Workload {
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

export const connectorWorkloads: Workload[] = [
  planned("kafka", "Kafka produce → consume", "KAFKA_BROKERS"),
  planned("elasticsearch", "Elasticsearch bulk sink", "ES_URL"),
];

// Every workload the harness knows, in the order it runs them. A connector's workload goes into
// workloads/connectors.ts: it is skipped with a message while its server variable is unset.
import type { Workload } from "./workload.ts";
import { w1 } from "./workloads/w1-file-json.ts";
import { w2 } from "./workloads/w2-generator.ts";
import { w3 } from "./workloads/w3-backpressure.ts";
import { w4 } from "./workloads/w4-fanout.ts";
import { connectorWorkloads } from "./workloads/connectors.ts";

export const workloads: Workload[] = [w1, w2, w3, w4, ...connectorWorkloads];

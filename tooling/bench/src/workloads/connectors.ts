// Connector workloads: one file per connector package in connectors/, each measured against its real
// server (started with tooling/servers/servers.sh). A workload names the variable that locates its
// server in `requires`; while that variable is unset the harness skips it with a message saying so.
//
// A workload's `run(variant, params)` has a "baseline" (the server's own client in a plain loop) and
// a "pump" variant (the connector's source or sink in a pipeline); the target is ≥ 0.85× the baseline.
import type { Workload } from "../workload.ts";
import { amqpConsume, amqpPublish } from "./connectors/amqp.ts";
import { elasticsearch } from "./connectors/elasticsearch.ts";
import { influxdb } from "./connectors/influxdb.ts";
import { kafka } from "./connectors/kafka.ts";
import { mysqlWorkload } from "./connectors/mysql.ts";

export const connectorWorkloads: Workload[] = [kafka, elasticsearch, amqpPublish, amqpConsume, mysqlWorkload, influxdb];

// Every workload the harness knows, in the order it runs them, each loaded from its own module: a
// measured run's child process loads only the workload it runs, so the clients of the connector
// workloads (kafkajs, the Elasticsearch client...) are not in the memory W1–W4 report. A connector's
// workload goes into workloads/connectors/: it is skipped with a message while its server variable is unset.
import type { Workload } from "./workload.ts";

const modules: Record<string, () => Promise<Workload>> = {
  w1: async () => (await import("./workloads/w1-file-json.ts")).w1,
  w2: async () => (await import("./workloads/w2-generator.ts")).w2,
  w3: async () => (await import("./workloads/w3-backpressure.ts")).w3,
  w4: async () => (await import("./workloads/w4-fanout.ts")).w4,
  kafka: async () => (await import("./workloads/connectors/kafka.ts")).kafka,
  elasticsearch: async () => (await import("./workloads/connectors/elasticsearch.ts")).elasticsearch,
  "amqp-publish": async () => (await import("./workloads/connectors/amqp.ts")).amqpPublish,
  "amqp-consume": async () => (await import("./workloads/connectors/amqp.ts")).amqpConsume,
  mysql: async () => (await import("./workloads/connectors/mysql.ts")).mysqlWorkload,
  influxdb: async () => (await import("./workloads/connectors/influxdb.ts")).influxdb,
};

export const workloadIds: readonly string[] = Object.keys(modules);

/** The workload `id`, or undefined when there is none. */
export function loadWorkload(id: string): Promise<Workload | undefined> {
  return Object.hasOwn(modules, id) ? modules[id]!() : Promise.resolve(undefined);
}

/** Every workload, in order. */
export function loadWorkloads(): Promise<Workload[]> {
  return Promise.all(workloadIds.map((id) => modules[id]!()));
}

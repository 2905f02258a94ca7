// @pump/test-servers: how connector test suites find the real servers of tooling/servers.
// Plain ESM with a hand-written index.d.ts; no dependencies. The vitest helper is in ./vitest.js.

/** Each environment variable and the server (a name servers.sh and docker-compose.yml know) it points at. */
export const SERVER_VARIABLES = Object.freeze({
  KAFKA_BROKERS: "kafka",
  ES_URL: "elasticsearch",
  AMQP_URL: "rabbitmq",
  MYSQL_URL: "mariadb",
  FTP_URL: "ftp",
  INFLUX_URL: "influxdb",
  REDIS_URL: "redis",
});

/** True when process.env.CI is set to anything but "", "0" or "false". */
export function isCI(env = process.env) {
  const v = env.CI;
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

function serverOf(variable, server) {
  const s = server ?? SERVER_VARIABLES[variable];
  if (!s) throw new TypeError(`@pump/test-servers: no server is known for ${variable}; pass the server name`);
  return s;
}

/** The command that starts a server and exports its variables. */
export function startHint(server) {
  return `tooling/servers/servers.sh up ${server} && eval "$(tooling/servers/servers.sh env)"`;
}

/** The one line printed when a suite skips (or thrown in CI). */
export function missingServerMessage(variable, server) {
  const s = serverOf(variable, server);
  return `${variable} is not set: start ${s} with \`${startHint(s)}\` (or \`docker compose up -d --wait ${s}\`)`;
}

export class MissingServerError extends Error {
  constructor(variable, server) {
    super(`${missingServerMessage(variable, server)}. CI is set, so the suite fails instead of skipping.`);
    this.name = "MissingServerError";
    this.variable = variable;
    this.server = serverOf(variable, server);
  }
}

const warned = new Set();

/**
 * The value of `variable` (e.g. serverUrl("KAFKA_BROKERS", "kafka") -> "127.0.0.1:9092").
 * Unset or empty: outside CI, prints one line saying how to start the server and returns undefined
 * (the suite skips itself); with CI set, throws MissingServerError (the suite fails: CI skips nothing).
 */
export function serverUrl(variable, server) {
  const value = process.env[variable];
  if (value !== undefined && value !== "") return value;
  if (isCI()) throw new MissingServerError(variable, server);
  if (!warned.has(variable)) {
    warned.add(variable);
    console.warn(`[test-servers] skipping: ${missingServerMessage(variable, server)}`);
  }
  return undefined;
}

/** KAFKA_BROKERS ("host:port,host:port") as the array kafkajs wants. */
export function kafkaBrokers(value) {
  return value.split(",").map((b) => b.trim()).filter(Boolean);
}

/** FTP_URL ("ftp://user:pass@host:port") as basic-ftp's Client.access() options. */
export function ftpAccess(value) {
  const u = new URL(value);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 21,
    user: decodeURIComponent(u.username) || "anonymous",
    password: decodeURIComponent(u.password),
    secure: u.protocol === "ftps:",
  };
}

/**
 * What @influxdata/influxdb-client needs besides INFLUX_URL. InfluxDB 1.8: the bucket is
 * "database/retention-policy", the org is ignored and, with auth off, any token is accepted.
 */
export function influxSettings(env = process.env) {
  return {
    token: env.INFLUX_TOKEN ?? "",
    org: env.INFLUX_ORG ?? "",
    bucket: env.INFLUX_BUCKET || "pump/autogen",
  };
}

/** Each environment variable and the server (a name servers.sh and docker-compose.yml know) it points at. */
export declare const SERVER_VARIABLES: Readonly<{
  KAFKA_BROKERS: "kafka";
  ES_URL: "elasticsearch";
  AMQP_URL: "rabbitmq";
  MYSQL_URL: "mariadb";
  FTP_URL: "ftp";
  INFLUX_URL: "influxdb";
  REDIS_URL: "redis";
}>;
export type ServerVariable = keyof typeof SERVER_VARIABLES;
export type ServerName = (typeof SERVER_VARIABLES)[ServerVariable];

/** True when process.env.CI is set to anything but "", "0" or "false". */
export declare function isCI(env?: NodeJS.ProcessEnv): boolean;

/** The command that starts a server and exports its variables. */
export declare function startHint(server: string): string;

/** The one line printed when a suite skips (or thrown in CI). */
export declare function missingServerMessage(variable: ServerVariable, server?: string): string;
export declare function missingServerMessage(variable: string, server: string): string;

export declare class MissingServerError extends Error {
  constructor(variable: string, server?: string);
  readonly variable: string;
  readonly server: string;
}

/**
 * The value of `variable` (e.g. serverUrl("KAFKA_BROKERS", "kafka") -> "127.0.0.1:9092").
 * Unset or empty: outside CI, prints one line saying how to start the server and returns undefined
 * (the suite skips itself); with CI set, throws MissingServerError (the suite fails: CI skips nothing).
 */
export declare function serverUrl(variable: ServerVariable, server?: string): string | undefined;
export declare function serverUrl(variable: string, server: string): string | undefined;

/** KAFKA_BROKERS ("host:port,host:port") as the array kafkajs wants. */
export declare function kafkaBrokers(value: string): string[];

/** FTP_URL ("ftp://user:pass@host:port") as basic-ftp's Client.access() options. */
export declare function ftpAccess(value: string): {
  host: string;
  port: number;
  user: string;
  password: string;
  secure: boolean;
};

/** What @influxdata/influxdb-client needs besides INFLUX_URL (InfluxDB 1.8: bucket "db/rp", org ignored). */
export declare function influxSettings(env?: NodeJS.ProcessEnv): { token: string; org: string; bucket: string };

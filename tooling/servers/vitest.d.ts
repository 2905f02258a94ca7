import type { ServerVariable } from "./index.js";

/**
 * describe(name, ...) that receives the server's URL. When `variable` is unset it skips with one line
 * saying how to start the server; when CI is set as well, it throws and the test file fails.
 *
 *   describeWithServer("kafka round-trip", "KAFKA_BROKERS", (brokers) => { it(...) })
 */
export declare function describeWithServer(name: string, variable: ServerVariable, body: (url: string) => void): void;
export declare function describeWithServer(
  name: string,
  variable: string,
  server: string,
  body: (url: string) => void,
): void;

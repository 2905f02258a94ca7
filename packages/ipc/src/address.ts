/**
 * BSPump's address grammar (`parse_address`): `"0.0.0.0 8080"`, `"0.0.0.0:8080"`, `":: 8080"`,
 * `":::8080"`, `"[::1]:8080"`, `"*:8080"` (every interface), `"8080"` (a port alone: 127.0.0.1 here;
 * BSPump binds every interface), or a path starting with `/` or `.` (a UNIX socket). A config value may
 * list several addresses, one per line.
 */
import { ConfigError, type Config } from "@pump/core";

export type Address = { kind: "inet"; host: string | undefined; port: number; text: string } | { kind: "unix"; path: string; text: string };

export const LOCALHOST = "127.0.0.1";

export function parseAddress(text: string): Address {
  const address = text.trim();
  if (address.startsWith("/") || address.startsWith(".")) return { kind: "unix", path: address, text: address };
  const match = /^(.*)[\s:](\d+)$/.exec(address);
  if (match === null) {
    if (/^\d+$/.test(address)) return { kind: "inet", host: LOCALHOST, port: toPort(address), text: address };
    return { kind: "unix", path: address, text: address };
  }
  let host = match[1]!.trim();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { kind: "inet", host: host === "*" ? undefined : host === "" ? LOCALHOST : host, port: toPort(match[2]!), text: address };
}

function toPort(digits: string): number {
  const value = Number(digits);
  if (value > 65535) throw new RangeError(`port ${digits} is out of range`);
  return value;
}

/**
 * The addresses of a component's config: `address` (one per line), or the older `host` + `port` keys
 * of BSPump's socket sources when `port` is set.
 */
export function configuredAddresses(config: Config): Address[] {
  try {
    if (config.has("port")) {
      const host = config.has("host") ? config.get("host").trim() : LOCALHOST;
      return [parseAddress(`${host === "" ? LOCALHOST : host} ${config.getInt("port")}`)];
    }
    const lines = config
      .get("address")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    if (lines.length === 0) throw new RangeError("no address");
    return lines.map(parseAddress);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(error instanceof Error ? error.message : String(error), { section: config.section, key: config.has("port") ? "port" : "address" }, "PUMP_CONFIG_VALUE");
  }
}

/** "ip port", as BSPump writes `stream_peer` / `stream_me`. */
export function formatEndpoint(address: string | undefined, port: number | undefined): string {
  return `${address ?? "?"} ${port ?? "?"}`;
}

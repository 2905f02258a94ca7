import { ConfigError, type Config } from "@pump/core";

/** A number from the config that must be > 0 (or >= 0 with `allowZero`). Accepts seconds with units where `seconds` is set. */
export function positive(config: Config, key: string, options: { allowZero?: boolean; seconds?: boolean; integer?: boolean } = {}): number {
  const value = options.seconds === true ? config.getSeconds(key) : options.integer === true ? config.getInt(key) : config.getFloat(key);
  if (!(options.allowZero === true ? value >= 0 : value > 0) || (options.integer === true && !Number.isInteger(value))) {
    throw new ConfigError(`must be ${options.allowZero === true ? "0 or more" : "more than 0"}, got ${config.get(key)}`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
  }
  return value;
}

/** One of `choices` (case-insensitive). */
export function choice<T extends string>(config: Config, key: string, choices: readonly T[]): T {
  const value = config.get(key).trim().toLowerCase();
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`must be one of ${choices.join(", ")}, got '${value}'`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
}

/**
 * Request headers from `Name: value` lines (the `headers` key, one header a line), merged under the
 * ones given in code. A line without a colon is a ConfigError.
 */
export function configHeaders(config: Config, key = "headers"): Record<string, string> {
  const headers: Record<string, string> = {};
  const lines = config
    .get(key)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ConfigError(`expected 'Name: value', got '${line}'`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * BSPump's `response_code`: the status codes taken as success, "200" or several with any separator
 * ("200, 201 204"); ranges are accepted too ("200-299").
 */
export function statusCodes(config: Config, key = "response_code"): (status: number) => boolean {
  const text = config.get(key);
  const singles = new Set<number>();
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(/(\d{3})(?:\s*-\s*(\d{3}))?/g)) {
    const from = Number(match[1]);
    if (match[2] === undefined) singles.add(from);
    else ranges.push([from, Number(match[2])]);
  }
  if (singles.size === 0 && ranges.length === 0) {
    throw new ConfigError(`expected HTTP status codes (e.g. "200" or "200-299"), got '${text}'`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
  }
  return (status) => singles.has(status) || ranges.some(([from, to]) => status >= from && status <= to);
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/**
 * A listen address as BSPump writes them: "127.0.0.1 8080", "127.0.0.1:8080", "[::1]:8080", ":8080"
 * or "8080". A missing host is 127.0.0.1 (loopback), not every interface: listening on all of them
 * must be asked for ("0.0.0.0:8080").
 */
export function listenAddress(config: Config, key: string): { host: string; port: number } {
  const text = config.get(key).trim();
  const fail = (): never => {
    throw new ConfigError(`expected "host:port", "host port" or "port", got '${text}'`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
  };
  let host = "127.0.0.1";
  let port: string;
  const bracketed = /^\[([^\]]+)\](?::|\s+)(\d+)$/.exec(text);
  if (bracketed !== null) [, host, port] = bracketed as unknown as [string, string, string];
  else if (/^\d+$/.test(text)) port = text;
  else {
    const spaced = /^(\S*)\s+(\d+)$/.exec(text) ?? /^(.*):(\d+)$/.exec(text);
    if (spaced === null) return fail();
    port = spaced[2]!;
    if (spaced[1] !== "" && spaced[1] !== "*") host = spaced[1]!;
    else if (spaced[1] === "*") host = "0.0.0.0";
  }
  const number = Number(port);
  if (!Number.isInteger(number) || number < 0 || number > 65535) return fail();
  return { host, port: number };
}

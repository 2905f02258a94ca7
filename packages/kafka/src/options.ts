/**
 * BSPump hands Kafka options to librdkafka with `_` turned into `.`, so `linger_ms` and `linger.ms`
 * name the same option. These helpers read a key under whichever spelling the user wrote.
 */
import { ConfigError, type Config } from "@pump/core";

function spellings(key: string): string[] {
  return [...new Set([key, key.replace(/\./g, "_"), key.replace(/_/g, ".")])];
}

/**
 * The name under which `key` (or one of `aliases`) is set. Defaults live under the canonical `key`
 * only, so another spelling that `has()` a value was set by the user and wins.
 */
export function keyOf(config: Config, key: string, ...aliases: string[]): string {
  for (const name of [key, ...aliases]) {
    for (const spelling of spellings(name)) {
      if (spelling !== key && config.has(spelling)) return spelling;
    }
  }
  return key;
}

export function optString(config: Config, key: string, ...aliases: string[]): string {
  return config.get(keyOf(config, key, ...aliases));
}

export function optInt(config: Config, key: string, ...aliases: string[]): number {
  return config.getInt(keyOf(config, key, ...aliases));
}

export function optFloat(config: Config, key: string, ...aliases: string[]): number {
  return config.getFloat(keyOf(config, key, ...aliases));
}

export function optBool(config: Config, key: string, ...aliases: string[]): boolean {
  return config.getBool(keyOf(config, key, ...aliases));
}

/** A value that must be one of `allowed` (compared in lower case). */
export function optChoice<T extends string>(config: Config, allowed: readonly T[], key: string, ...aliases: string[]): T {
  const name = keyOf(config, key, ...aliases);
  const value = config.get(name).trim().toLowerCase();
  const found = allowed.find((a) => a.toLowerCase() === value);
  if (found === undefined) {
    throw new ConfigError(`expected one of ${allowed.join(", ")}, got '${value}'`, { section: config.section, key: name }, "PUMP_CONFIG_VALUE");
  }
  return found;
}

/** A whole number ≥ `min`. */
export function optCount(config: Config, min: number, key: string, ...aliases: string[]): number {
  const name = keyOf(config, key, ...aliases);
  const value = config.getInt(name);
  if (value < min) throw new ConfigError(`expected an integer of at least ${min}, got ${value}`, { section: config.section, key: name }, "PUMP_CONFIG_VALUE");
  return value;
}

/** A list written with spaces, commas or newlines between the items. */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((part) => part !== "");
}

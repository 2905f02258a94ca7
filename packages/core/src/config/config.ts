/**
 * `Config`: the configuration one component sees, its class's `ConfigDefaults` overlaid with the
 * `config` given in code and then with its section of the configuration file, read through typed
 * getters whose errors say where a bad value was set.
 *
 * Keys are case-insensitive (configparser lower-cases them), and listed in lower case.
 */

import { ConfigError } from "../errors.js";
import type { ConfigFile } from "./conf-file.js";
import { isSecret } from "./secrets.js";

export type ConfigValue = string | number | boolean;
export type ConfigValues = Readonly<Record<string, ConfigValue>>;

type Constructor = abstract new (...args: never[]) => unknown;

const defaultsCache = new WeakMap<Constructor, ConfigValues>();

/**
 * Merges `static ConfigDefaults` down the class chain, from the base class to `ctor`: the most
 * derived class wins per key. Cached per class, as it runs for every component constructed.
 */
export function collectDefaults(ctor: Constructor): ConfigValues {
  const cached = defaultsCache.get(ctor);
  if (cached !== undefined) return cached;
  const parent: unknown = Object.getPrototypeOf(ctor);
  const inherited = typeof parent === "function" && parent !== Function.prototype ? collectDefaults(parent as Constructor) : {};
  // Only the class's own defaults: a static property is otherwise inherited, and would be merged twice.
  const own: unknown = Object.hasOwn(ctor, "ConfigDefaults") ? (ctor as { ConfigDefaults?: unknown }).ConfigDefaults : {};
  const merged: Record<string, ConfigValue> = { ...inherited };
  for (const [key, value] of Object.entries(own ?? {})) {
    // As BSPump rejects None: a default must say what type the key has.
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new ConfigError(
        `${ctor.name}.ConfigDefaults: the default of '${key}' is ${value === null ? "null" : typeof value}; give a string, number or boolean`,
        { key },
        "PUMP_CONFIG",
      );
    }
    merged[key] = value;
  }
  const result = Object.freeze(merged);
  defaultsCache.set(ctor, result);
  return result;
}

interface Found {
  value: ConfigValue;
  fromFile: boolean;
}

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true, yes: true, on: true, "1": true,
  false: false, no: false, off: false, "0": false,
};

// ASAB's getseconds units; M is a 30-day month, y a 365-day year.
const SECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, M: 30 * 86400, y: 365 * 86400,
};

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const DURATION = /^([+-]?(?:\d+\.?\d*|\.\d+))\s*(ms|[smhdwMy])?$/;

function lowerKeys(values: ConfigValues | undefined): Map<string, ConfigValue> {
  return new Map(Object.entries(values ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
}

export class Config {
  readonly section: string;
  readonly #defaults: ReadonlyMap<string, ConfigValue>;
  readonly #given: ReadonlyMap<string, ConfigValue>;
  readonly #file: ConfigFile | undefined;

  /** Precedence, rising: defaults < given (the constructor's `config` option) < the file's section. */
  constructor(section: string, layers: { defaults?: ConfigValues; given?: ConfigValues | undefined; file?: ConfigFile | undefined }) {
    this.section = section;
    this.#defaults = lowerKeys(layers.defaults);
    this.#given = lowerKeys(layers.given);
    this.#file = layers.file;
  }

  static forClass(ctor: Constructor, section: string, given: ConfigValues | undefined, file: ConfigFile | undefined): Config {
    return new Config(section, { defaults: collectDefaults(ctor), given, file });
  }

  /** Whether any layer sets the key; does not read (interpolate) the value, so it cannot fail. */
  has(key: string): boolean {
    return this.keys().includes(key.toLowerCase());
  }

  keys(): string[] {
    return [...new Set([...this.#defaults.keys(), ...this.#given.keys(), ...(this.#file?.keys(this.section) ?? [])])];
  }

  get(key: string, fallback?: string): string {
    const found = this.#find(key);
    if (found !== undefined) return String(found.value);
    if (fallback !== undefined) return fallback;
    throw this.#missing(key);
  }

  /** An integer: `10` or `"10"`; not `"10.5"`. */
  getInt(key: string, fallback?: number): number {
    return this.#typed(key, fallback, "an integer (e.g. 10)", (value) => {
      const number = typeof value === "string" && INTEGER.test(value.trim()) ? Number(value) : value;
      return typeof number === "number" && Number.isSafeInteger(number) ? number : undefined;
    });
  }

  getFloat(key: string, fallback?: number): number {
    return this.#typed(key, fallback, "a number (e.g. 1.5)", (value) => {
      if (typeof value === "number") return Number.isNaN(value) ? undefined : value;
      return typeof value === "string" && FLOAT.test(value.trim()) ? Number(value) : undefined;
    });
  }

  /** configparser's getboolean: true/false, yes/no, on/off, 1/0, in any case. */
  getBool(key: string, fallback?: boolean): boolean {
    return this.#typed(key, fallback, "a boolean (true/false, yes/no, on/off, 1/0)", (value) =>
      typeof value === "boolean" ? value : BOOLEANS[String(value).trim().toLowerCase()],
    );
  }

  /** ASAB's getseconds: a number of seconds, or one with a unit: ms, s, m, h, d, w, M (30 days), y. */
  getSeconds(key: string, fallback?: number): number {
    return this.#typed(key, fallback, "a duration (e.g. 30, 500ms, 30s, 5m, 1.5h, 2d, 1w, 1M, 1y)", (value) => {
      if (typeof value === "number") return Number.isNaN(value) ? undefined : value;
      const match = typeof value === "string" ? DURATION.exec(value.trim()) : null;
      if (match === null) return undefined;
      return Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? "s"] ?? 1);
    });
  }

  /** ASAB's getmultiline: the value split on newlines and whitespace, empty parts dropped. */
  getMultiline(key: string): string[] {
    return this.get(key)
      .split(/\s+/)
      .filter((part) => part !== "");
  }

  /** The merged view of all three layers. */
  toObject(): Record<string, ConfigValue> {
    const result: Record<string, ConfigValue> = {};
    for (const key of this.keys()) {
      const found = this.#find(key);
      if (found !== undefined) result[key] = found.value;
    }
    return result;
  }

  #find(key: string): Found | undefined {
    const lowered = key.toLowerCase();
    const fromFile = this.#file?.get(this.section, lowered);
    if (fromFile !== undefined) return { value: fromFile, fromFile: true };
    const value = this.#given.get(lowered) ?? this.#defaults.get(lowered);
    return value === undefined ? undefined : { value, fromFile: false };
  }

  #typed<T>(key: string, fallback: T | undefined, expected: string, parse: (value: ConfigValue) => T | undefined): T {
    const found = this.#find(key);
    if (found === undefined) {
      if (fallback !== undefined) return fallback;
      throw this.#missing(key);
    }
    const parsed = parse(found.value);
    if (parsed !== undefined) return parsed;
    // A value set in code or with ConfigFile.set has no file location.
    const at = found.fromFile && this.#file !== undefined ? this.#file.locate(this.section, key) : { section: this.section, key: key.toLowerCase() };
    const origin = at.file === undefined ? " (from code)" : "";
    const got = isSecret(this.section, key) ? "a value not shown because the key holds a secret" : `'${String(found.value)}'`;
    throw new ConfigError(`expected ${expected}, got ${got}${origin}`, at, "PUMP_CONFIG_VALUE");
  }

  #missing(key: string): ConfigError {
    return new ConfigError(
      "required key is not set: it has no default, was not given in code and is not in the configuration file",
      { file: this.#file?.files[0], section: this.section, key: key.toLowerCase() },
      "PUMP_CONFIG_MISSING",
    );
  }
}

/**
 * Python's csv dialects and formatting parameters, as BSPump's CSV source and sink take them from
 * config: `dialect` (excel, excel-tab, unix) gives the defaults, and each key set to a non-empty value
 * overrides it. In a `.conf` file, write a tab as `\t` and line ends as `\r\n` or `\n`.
 */
import { ConfigError, type Config } from "@pump/core";

export const QUOTE_MINIMAL = 0;
export const QUOTE_ALL = 1;
export const QUOTE_NONNUMERIC = 2;
export const QUOTE_NONE = 3;
export type Quoting = typeof QUOTE_MINIMAL | typeof QUOTE_ALL | typeof QUOTE_NONNUMERIC | typeof QUOTE_NONE;

export interface CsvDialect {
  delimiter: string;
  quotechar: string;
  /** Undefined when there is none. */
  escapechar: string | undefined;
  doublequote: boolean;
  skipinitialspace: boolean;
  lineterminator: string;
  quoting: Quoting;
  strict: boolean;
}

const DIALECTS: Readonly<Record<string, CsvDialect>> = {
  excel: {
    delimiter: ",",
    quotechar: '"',
    escapechar: undefined,
    doublequote: true,
    skipinitialspace: false,
    lineterminator: "\r\n",
    quoting: QUOTE_MINIMAL,
    strict: false,
  },
  "excel-tab": {
    delimiter: "\t",
    quotechar: '"',
    escapechar: undefined,
    doublequote: true,
    skipinitialspace: false,
    lineterminator: "\r\n",
    quoting: QUOTE_MINIMAL,
    strict: false,
  },
  unix: {
    delimiter: ",",
    quotechar: '"',
    escapechar: undefined,
    doublequote: true,
    skipinitialspace: false,
    lineterminator: "\n",
    quoting: QUOTE_ALL,
    strict: false,
  },
};

/** The keys the dialect's values can be overridden with; "" (the default) keeps the dialect's. */
export const DIALECT_DEFAULTS = {
  dialect: "excel",
  delimiter: "",
  quotechar: "",
  escapechar: "",
  doublequote: "",
  skipinitialspace: "",
  lineterminator: "",
  quoting: "",
  strict: "",
} as const;

const ESCAPES: Readonly<Record<string, string>> = { "\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\" };

/** `\t`, `\n`, `\r` and `\\` written out in a configuration value, turned into the characters. */
export function unescape(value: string): string {
  return value.replace(/\\[tnr\\]/g, (m) => ESCAPES[m]!);
}

function character(config: Config, key: string): string | undefined {
  const raw = config.get(key);
  if (raw === "") return undefined;
  const value = unescape(raw);
  if (value.length !== 1) throw new ConfigError(`expected one character, got '${raw}'`, { section: config.section, key }, "PUMP_CONFIG_VALUE");
  return value;
}

/** The dialect a component's config describes. */
export function readDialect(config: Config): CsvDialect {
  const name = config.get("dialect").trim();
  const base = DIALECTS[name];
  if (base === undefined) {
    throw new ConfigError(`unknown dialect '${name}' (known: ${Object.keys(DIALECTS).join(", ")})`, { section: config.section, key: "dialect" }, "PUMP_CONFIG_VALUE");
  }
  const dialect = { ...base };
  dialect.delimiter = character(config, "delimiter") ?? dialect.delimiter;
  dialect.quotechar = character(config, "quotechar") ?? dialect.quotechar;
  dialect.escapechar = character(config, "escapechar") ?? dialect.escapechar;
  if (config.get("doublequote") !== "") dialect.doublequote = config.getBool("doublequote");
  if (config.get("skipinitialspace") !== "") dialect.skipinitialspace = config.getBool("skipinitialspace");
  if (config.get("strict") !== "") dialect.strict = config.getBool("strict");
  if (config.get("lineterminator") !== "") dialect.lineterminator = unescape(config.get("lineterminator"));
  if (config.get("quoting") !== "") {
    const quoting = config.getInt("quoting");
    if (quoting < 0 || quoting > 3) throw new ConfigError(`expected 0 to 3 (csv.QUOTE_MINIMAL, QUOTE_ALL, QUOTE_NONNUMERIC, QUOTE_NONE), got ${quoting}`, { section: config.section, key: "quoting" }, "PUMP_CONFIG_VALUE");
    dialect.quoting = quoting as Quoting;
  }
  return dialect;
}

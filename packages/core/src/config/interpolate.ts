/**
 * Interpolation of configuration values, applied when a value is read (as ASAB expands variables
 * at read time): `${ENV}` and `$ENV` from the environment, `$THIS_DIR`, `${section:key}`
 * references (configparser's ExtendedInterpolation) and `$$` for a literal `$`.
 */

import { ConfigError, type ConfigLocation } from "../errors.js";

/** A value as written in the file, or set in code, and where it came from. */
export interface RawValue {
  readonly raw: string;
  readonly section: string;
  readonly key: string;
  /** Undefined for a value set in code. */
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** What `$THIS_DIR` means for this value: its file's directory (the working directory for values set in code). */
  readonly dir: string;
}

export interface InterpolationScope {
  readonly env: Readonly<Record<string, string | undefined>>;
  lookup(section: string, key: string): RawValue | undefined;
}

// `$$` | `${...}` | `$NAME` | a `${` never closed.
const REFERENCE = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|(\{))/g;

export function interpolate(value: RawValue, scope: InterpolationScope, chain: readonly RawValue[] = []): string {
  const at: ConfigLocation = { file: value.file, line: value.line, section: value.section, key: value.key };
  return value.raw.replace(
    REFERENCE,
    (match: string, dollar: string | undefined, braced: string | undefined, bare: string | undefined): string => {
      if (dollar !== undefined) return "$";
      // A bare `$word` that is not a variable stays: regexes and prices contain `$`.
      if (bare !== undefined) return variable(bare, value, scope) ?? match;
      if (braced === undefined) throw new ConfigError("'${' is never closed (write '$${' for a literal '${')", at, "PUMP_CONFIG");
      if (braced.includes(":")) return reference(braced, value, scope, chain, at);
      const found = variable(braced, value, scope);
      // Secrets come from the environment: a missing one must not quietly become "".
      if (found === undefined) throw new ConfigError(`variable '\${${braced}}' is not set in the environment`, at, "PUMP_CONFIG_MISSING");
      return found;
    },
  );
}

function variable(name: string, value: RawValue, scope: InterpolationScope): string | undefined {
  return name === "THIS_DIR" ? value.dir : scope.env[name];
}

function reference(path: string, from: RawValue, scope: InterpolationScope, chain: readonly RawValue[], at: ConfigLocation): string {
  // Keys cannot contain ':', so the last one separates the key from a section like `pipeline:P:Source`.
  const colon = path.lastIndexOf(":");
  const section = path.slice(0, colon).trim();
  const key = path.slice(colon + 1).trim();
  const target = scope.lookup(section, key);
  if (target === undefined) {
    throw new ConfigError(`'\${${path}}' refers to key '${key}' of section [${section}], which is not set`, at, "PUMP_CONFIG_MISSING");
  }
  const next = [...chain, from];
  if (next.some((seen) => seen.section === target.section && seen.key === target.key)) {
    const cycle = [...next, target].map((v) => `[${v.section}] ${v.key}`).join(" -> ");
    throw new ConfigError(`circular reference: ${cycle}`, at, "PUMP_CONFIG");
  }
  return interpolate(target, scope, next);
}

/**
 * `${VAR}` in a definition's config values, args and trigger options, as in `.conf` files:
 * `${VAR}` must be set (a secret must not quietly become ""), a bare `$VAR` is replaced when set and
 * left as it is otherwise (regexes and prices contain `$`), `$$` is a literal `$`, and `${THIS_DIR}`
 * is the definition file's directory.
 */

const REFERENCE = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|(\{))/g;

export interface InterpolationScope {
  env: Readonly<Record<string, string | undefined>>;
  /** The definition's directory, for `${THIS_DIR}`. */
  dir: string;
}

/** The text with references replaced; throws an Error naming the first variable that is not set. */
export function interpolateText(text: string, scope: InterpolationScope): string {
  const lookup = (name: string): string | undefined => (name === "THIS_DIR" ? scope.dir : scope.env[name]);
  return text.replace(REFERENCE, (match: string, dollar: string | undefined, braced: string | undefined, bare: string | undefined): string => {
    if (dollar !== undefined) return "$";
    if (bare !== undefined) return lookup(bare) ?? match;
    if (braced === undefined) throw new Error("'${' is never closed (write '$${' for a literal '${')");
    const value = lookup(braced.trim());
    if (value === undefined) throw new Error(`variable '\${${braced}}' is not set in the environment`);
    return value;
  });
}

/** Interpolates every string inside `value` (lists and mappings walked); `onError` hears each failure with its path below `value`. */
export function interpolateValue(value: unknown, scope: InterpolationScope, onError: (path: (string | number)[], message: string) => void, path: (string | number)[] = []): unknown {
  if (typeof value === "string") {
    try {
      return interpolateText(value, scope);
    } catch (error) {
      onError(path, (error as Error).message);
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateValue(item, scope, onError, [...path, i]));
  if (value !== null && typeof value === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = interpolateValue(item, scope, onError, [...path, key]);
    return result;
  }
  return value;
}

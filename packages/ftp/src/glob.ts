/**
 * fnmatch-style patterns for file names (no folders): `*` any run of characters, `?` one character,
 * `[abc]`, `[a-z]` and `[!abc]` one of (or none of) a set. Several patterns may be given separated by
 * spaces or commas; a name matches if any does.
 */
export function globRegExp(patterns: string): RegExp {
  const parts = patterns
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) return /^$/;
  return new RegExp(`^(?:${parts.map(translate).join("|")})$`, "s");
}

function escape(char: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char;
}

function translate(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") out += ".*";
    else if (char === "?") out += ".";
    else if (char === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let set = pattern.slice(i + 1, close);
      const negate = set.startsWith("!");
      if (negate) set = set.slice(1);
      out += `[${negate ? "^" : ""}${set.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = close;
    } else out += escape(char);
  }
  return out;
}

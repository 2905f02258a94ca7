/**
 * Python's `glob.glob(path, recursive=True)` and `fnmatch.fnmatch`, as BSPump's file sources use them:
 * `*`, `?` and `[seq]` / `[!seq]` match within one path segment, a `**` segment matches any number of
 * directories (none included), and wildcards do not match names starting with "." unless the pattern's
 * segment does. Results are sorted, as BSPump sorts them.
 */
import type { Dirent } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";

const MAGIC = /[*?[]/;

/** Regular-expression source of one glob character class starting at `pattern[i]` ("["), and the index after it; undefined when unclosed. */
function charClass(pattern: string, i: number): [string, number] | undefined {
  let j = i + 1;
  if (pattern[j] === "!") j++;
  if (pattern[j] === "]") j++; // a "]" right after the opening is literal
  while (j < pattern.length && pattern[j] !== "]") j++;
  if (j >= pattern.length) return undefined;
  let body = pattern.slice(i + 1, j);
  const negate = body.startsWith("!");
  if (negate) body = body.slice(1);
  // Ranges (a-z) are kept; characters special inside a RegExp class are escaped.
  body = body.replace(/[\\\]^[]/g, (c) => `\\${c}`);
  return [`[${negate ? "^" : ""}${body}]`, j + 1];
}

function translate(pattern: string, any: string, one: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "*") {
      while (pattern[i] === "*") i++;
      out += any;
      continue;
    }
    if (c === "?") {
      out += one;
      i++;
      continue;
    }
    if (c === "[") {
      const cls = charClass(pattern, i);
      if (cls !== undefined) {
        out += cls[0];
        i = cls[1];
        continue;
      }
    }
    out += c.replace(/[.*+?^${}()|[\]\\/]/g, (m) => `\\${m}`);
    i++;
  }
  return out;
}

/** `fnmatch.fnmatch`: the whole string against the pattern; `*` and `?` match "/" too. */
export function fnmatchRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern, "[\\s\\S]*", "[\\s\\S]")}$`);
}

/** One glob segment: wildcards stay within the segment. */
function segmentRegExp(segment: string): RegExp {
  return new RegExp(`^${translate(segment, "[^/]*", "[^/]")}$`);
}

export interface GlobEntry {
  path: string;
  isFile: boolean;
}

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir === "" ? "." : dir, { withFileTypes: true });
  } catch {
    return []; // gone, not a directory, or not readable: nothing matches there
  }
}

async function kind(path: string, entry?: Dirent): Promise<{ isFile: boolean; isDirectory: boolean } | undefined> {
  if (entry !== undefined && !entry.isSymbolicLink()) return { isFile: entry.isFile(), isDirectory: entry.isDirectory() };
  try {
    const s = await stat(path); // follows links, as os.path.isfile does
    return { isFile: s.isFile(), isDirectory: s.isDirectory() };
  } catch {
    return undefined;
  }
}

function join(dir: string, name: string): string {
  if (dir === "") return name;
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** The paths matching `pattern`, sorted; each says whether it is a regular file (links followed). */
export async function glob(pattern: string): Promise<GlobEntry[]> {
  if (pattern === "") return [];
  const segments = pattern.split("/");
  const found = new Map<string, boolean>();

  if (!MAGIC.test(pattern)) {
    const k = await kind(pattern);
    return k === undefined ? [] : [{ path: pattern, isFile: k.isFile }];
  }

  const walk = async (dir: string, index: number): Promise<void> => {
    const segment = segments[index]!;
    const last = index === segments.length - 1;
    if (segment === "**") {
      // Zero directories...
      if (last) {
        // "a/**" matches everything below a (files and directories), as Python does.
        if (dir !== "") found.set(dir, false);
      } else {
        await walk(dir, index + 1);
      }
      // ...or one more (not following links, so a link loop cannot recurse forever).
      for (const entry of await list(dir)) {
        if (entry.name.startsWith(".")) continue;
        const path = join(dir, entry.name);
        if (last) found.set(path, entry.isFile() || (entry.isSymbolicLink() && ((await kind(path))?.isFile ?? false)));
        if (entry.isDirectory()) await walk(path, index);
      }
      return;
    }
    if (!MAGIC.test(segment)) {
      const path = dir === "" && index === 0 ? segment : join(dir, segment);
      if (last) {
        const k = await kind(path);
        if (k !== undefined) found.set(path, k.isFile);
      } else if (segment === "" && index === 0) {
        await walk("/", index + 1); // an absolute pattern
      } else {
        await walk(path, index + 1);
      }
      return;
    }
    const re = segmentRegExp(segment);
    const hidden = segment.startsWith(".");
    for (const entry of await list(dir)) {
      if (entry.name.startsWith(".") && !hidden) continue;
      if (!re.test(entry.name)) continue;
      const path = join(dir, entry.name);
      if (last) {
        const k = await kind(path, entry);
        if (k !== undefined) found.set(path, k.isFile);
      } else {
        const k = await kind(path, entry);
        if (k?.isDirectory === true) await walk(path, index + 1);
      }
    }
  };

  await walk("", 0);
  return [...found].map(([path, isFile]) => ({ path, isFile })).toSorted((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Whether a path exists without following a final link. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finding and importing the packages a definition names, as `import()` of the name would in the
 * definition's project: `node_modules/<name>` from the definition's directory up (then from the
 * working directory up), the package's `exports` read with the `node`, `import` and `default`
 * conditions. Only the packages a definition names are imported, so a pump needs only the
 * connectors it uses installed. `@pump/core` is always the copy this command runs on, so the
 * components and the application share one runtime.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as core from "@pump/core";
import { CORE_PACKAGE } from "./definition.js";

const CONDITIONS = ["node", "import", "default"];

export type ModuleExports = Readonly<Record<string, unknown>>;

export type ImportResult =
  | { ok: true; exports: ModuleExports; where: string }
  | { ok: false; notInstalled: boolean; message: string };

/** Whether a `package` value is a module path (relative to the definition) rather than a package name. */
export function isModulePath(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || isAbsolute(specifier) || specifier.startsWith("file:");
}

/** `@scope/name/sub` → `["@scope/name", "./sub"]`. */
function splitSpecifier(specifier: string): [string, string] {
  const parts = specifier.split("/");
  const size = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, size).join("/");
  const rest = parts.slice(size).join("/");
  return [name, rest === "" ? "." : `./${rest}`];
}

/** The package's folder: `node_modules/<name>` in `dir` or a folder above it. */
export function findPackageDir(name: string, dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const candidate = join(current, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function conditional(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = conditional(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (target !== null && typeof target === "object") {
    for (const [condition, value] of Object.entries(target)) {
      if (!CONDITIONS.includes(condition)) continue;
      const found = conditional(value);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Node's `exports` resolution for one subpath, with the conditions of an ESM import. */
function resolveExports(exports: unknown, subpath: string): string | undefined {
  const isSubpathMap = exports !== null && typeof exports === "object" && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? conditional(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (subpath in map) return conditional(map[subpath]);
  for (const [pattern, target] of Object.entries(map)) {
    const star = pattern.indexOf("*");
    if (star < 0) continue;
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= pattern.length - 1) {
      const matched = subpath.slice(prefix.length, subpath.length - suffix.length);
      return conditional(target)?.replaceAll("*", matched);
    }
  }
  return undefined;
}

/** The file an ESM import of `specifier` loads, resolved in the project of `dir`; undefined if not installed. */
export function resolvePackageEntry(specifier: string, dir: string): { file: string; packageDir: string } | undefined {
  const [name, subpath] = splitSpecifier(specifier);
  const packageDir = findPackageDir(name, dir);
  if (packageDir === undefined) return undefined;
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { exports?: unknown; main?: string };
  let entry: string | undefined;
  if (manifest.exports !== undefined) entry = resolveExports(manifest.exports, subpath);
  else if (subpath === ".") entry = manifest.main ?? "index.js";
  else entry = subpath;
  if (entry === undefined) return undefined;
  const file = resolve(packageDir, entry);
  return { file, packageDir };
}

function installHint(name: string): string {
  return `install it in the project: pnpm add ${name} (or npm install ${name})`;
}

const cache = new Map<string, Promise<ImportResult>>();

/**
 * Imports what a definition's `package` names, from the project of `dirs[0]` (then of the others).
 * The result says why not when it cannot: not installed (with the command that installs it), or
 * the import itself failed.
 */
export function importPackage(specifier: string, dirs: readonly string[]): Promise<ImportResult> {
  const key = `${specifier}\u0000${dirs.join("\u0000")}`;
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = load(specifier, dirs);
    cache.set(key, pending);
  }
  return pending;
}

async function load(specifier: string, dirs: readonly string[]): Promise<ImportResult> {
  if (specifier === CORE_PACKAGE) return { ok: true, exports: core as ModuleExports, where: CORE_PACKAGE };
  let url: string;
  let where: string;
  if (isModulePath(specifier)) {
    const file = specifier.startsWith("file:") ? new URL(specifier).pathname : resolve(dirs[0] ?? process.cwd(), specifier);
    if (!existsSync(file) || !statSync(file).isFile()) {
      return { ok: false, notInstalled: true, message: `module '${specifier}' not found (no file ${file})` };
    }
    url = pathToFileURL(file).href;
    where = file;
  } else {
    const found = dirs.map((dir) => resolvePackageEntry(specifier, dir)).find((entry) => entry !== undefined);
    if (found === undefined) {
      const name = splitSpecifier(specifier)[0];
      const looked = [...new Set(dirs)].join(" nor from ");
      return { ok: false, notInstalled: true, message: `package '${name}' is not installed (no node_modules/${name} found from ${looked} up): ${installHint(name)}` };
    }
    url = pathToFileURL(found.file).href;
    where = found.packageDir;
  }
  try {
    const exports = (await import(url)) as ModuleExports;
    return { ok: true, exports, where };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, notInstalled: false, message: `cannot import '${specifier}' (${where}): ${reason}` };
  }
}

/** The package a class was loaded from by a definition, for `definitionOf`. */
const packages = new WeakMap<object, string>();

export function rememberPackage(ctor: object, specifier: string): void {
  if (!packages.has(ctor)) packages.set(ctor, specifier);
}

export function rememberedPackage(ctor: object): string | undefined {
  return packages.get(ctor);
}

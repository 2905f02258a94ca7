/**
 * A parsed `.conf` file in the dialect BSPump users write: Python's configparser as ASAB sets it
 * up. `[section]` headers, `key = value` or `key: value`, full-line `#`/`;` comments, multi-line
 * values by indentation, `[general] include` and interpolation when values are read.
 *
 * Keys are lower-cased, as configparser does (`optionxform`); lookups lower-case the key too, so
 * `get("s", "MaxSize")` finds `maxsize`. Section names are kept as written.
 */

import { globSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, type ConfigLocation } from "../errors.js";
import { interpolate, type InterpolationScope, type RawValue } from "./interpolate.js";
import { isSecret, maskUrlPasswords, SECRET_MASK } from "./secrets.js";

export interface ConfigFileOptions {
  /** Where `${VAR}` and `$VAR` are looked up; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

/** A key line whose value may still continue on the following, more indented lines. */
interface PendingValue {
  section: string;
  key: string;
  line: number;
  indent: number;
  lines: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;

export class ConfigFile {
  readonly #sections = new Map<string, Map<string, RawValue>>();
  readonly #files: string[] = [];
  /** Absolute paths already read, so that each file is included at most once. */
  readonly #read = new Set<string>();
  readonly #scope: InterpolationScope;

  private constructor(options: ConfigFileOptions = {}) {
    this.#scope = {
      env: options.env ?? process.env,
      lookup: (section, key) => this.#sections.get(section)?.get(key.toLowerCase()),
    };
  }

  static empty(): ConfigFile {
    return new ConfigFile();
  }

  /** `file` names the text in errors and is where relative includes and `$THIS_DIR` start from. */
  static parse(text: string, file?: string, options?: ConfigFileOptions): ConfigFile {
    const conf = new ConfigFile(options);
    conf.#parse(text, file);
    return conf;
  }

  /** Reads synchronously: configuration is loaded once, at startup. */
  static load(path: string, options?: ConfigFileOptions): ConfigFile {
    const conf = new ConfigFile(options);
    conf.#parse(readText(path, { file: path }, "the configuration file"), path);
    return conf;
  }

  /** Every file read, in order: the main one first, then the included ones. */
  get files(): readonly string[] {
    return this.#files;
  }

  sections(): string[] {
    return [...this.#sections.keys()];
  }

  hasSection(name: string): boolean {
    return this.#sections.has(name);
  }

  /** The section's keys, without reading (interpolating) their values. */
  keys(section: string): string[] {
    return [...(this.#sections.get(section)?.keys() ?? [])];
  }

  section(name: string): ReadonlyMap<string, string> | undefined {
    const values = this.#sections.get(name);
    if (values === undefined) return undefined;
    return new Map([...values].map(([key, value]) => [key, interpolate(value, this.#scope)]));
  }

  get(section: string, key: string): string | undefined {
    const value = this.#scope.lookup(section, key);
    return value === undefined ? undefined : interpolate(value, this.#scope);
  }

  /** File and line where the key was set; just the section and key if it was set in code (or not at all). */
  locate(section: string, key: string): ConfigLocation {
    const value = this.#scope.lookup(section, key);
    if (value?.file === undefined) return { section, key: key.toLowerCase() };
    return { file: value.file, line: value.line, section, key: value.key };
  }

  set(section: string, key: string, value: string): void {
    const lowered = key.toLowerCase();
    this.#section(section).set(lowered, { raw: value, section, key: lowered, file: undefined, line: undefined, dir: process.cwd() });
  }

  /**
   * Values safe to show, e.g. over the REST API. They are shown as written, not interpolated, so
   * that a secret pulled in from the environment never appears; the [passwords] section, keys
   * named like secrets and passwords inside URLs are masked.
   */
  redacted(): Record<string, Record<string, string>> {
    const result: Record<string, Record<string, string>> = {};
    for (const [name, values] of this.#sections) {
      const shown: Record<string, string> = {};
      for (const [key, value] of values) shown[key] = isSecret(name, key) ? SECRET_MASK : maskUrlPasswords(value.raw);
      result[name] = shown;
    }
    return result;
  }

  #section(name: string): Map<string, RawValue> {
    let values = this.#sections.get(name);
    if (values === undefined) this.#sections.set(name, (values = new Map()));
    return values;
  }

  #parse(text: string, file: string | undefined): void {
    if (file !== undefined) {
      this.#files.push(file);
      this.#read.add(resolve(file));
    }
    const dir = file === undefined ? process.cwd() : dirname(resolve(file));
    let section: string | undefined;
    let pending: PendingValue | undefined;

    for (const [index, line] of text.replace(/^\uFEFF/, "").split(/\r?\n/).entries()) {
      const trimmed = line.trim();
      if (trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
      if (trimmed === "") {
        // Kept only if more of the value follows; trailing blank lines are trimmed on store.
        pending?.lines.push("");
        continue;
      }
      const indent = line.length - line.trimStart().length;
      if (pending !== undefined && indent > pending.indent) {
        pending.lines.push(trimmed);
        continue;
      }
      if (pending !== undefined) this.#store(pending, file, dir);
      pending = undefined;

      const at = { file, line: index + 1 };
      if (trimmed.startsWith("[")) {
        section = /^\[(.*)\]$/.exec(trimmed)?.[1]?.trim();
        if (section === undefined || section === "") {
          throw new ConfigError(`malformed section header: ${trimmed}`, at, "PUMP_CONFIG_FILE");
        }
        this.#section(section);
        continue;
      }
      // The first '=' or ':' ends the key, so values may contain both.
      const delimiter = trimmed.search(/[=:]/);
      if (delimiter <= 0) {
        throw new ConfigError(`expected '[section]' or 'key = value', got: ${trimmed}`, at, "PUMP_CONFIG_FILE");
      }
      const key = trimmed.slice(0, delimiter).trim().toLowerCase();
      if (section === undefined) {
        throw new ConfigError(`key '${key}' comes before any [section] header`, at, "PUMP_CONFIG_FILE");
      }
      pending = { section, key, line: index + 1, indent, lines: [trimmed.slice(delimiter + 1).trim()] };
    }
    if (pending !== undefined) this.#store(pending, file, dir);
  }

  #store(pending: PendingValue, file: string | undefined, dir: string): void {
    const { section, key, line } = pending;
    const value: RawValue = { raw: pending.lines.join("\n").trim(), section, key, file, line, dir };
    this.#section(section).set(key, value);
    // Included files are read right here, so the including file's later keys override theirs.
    if (section === "general" && key === "include") this.#include(value);
  }

  /** `include` lists files or globs, separated by spaces or newlines, relative to the including file. */
  #include(include: RawValue): void {
    const at = { file: include.file, line: include.line, section: include.section, key: include.key };
    for (const pattern of interpolate(include, this.#scope).split(/\s+/)) {
      if (pattern === "") continue;
      // A glob may match nothing (an empty conf.d/); a plain path must exist, so it is read and fails if not.
      const paths = GLOB_CHARS.test(pattern)
        ? globSync(pattern, { cwd: include.dir, withFileTypes: true })
            .filter((entry) => entry.isFile())
            .map((entry) => resolve(include.dir, join(entry.parentPath, entry.name)))
            .toSorted()
        : [resolve(include.dir, pattern)];
      for (const path of paths) {
        if (!this.#read.has(path)) this.#parse(readText(path, at, `included file '${path}'`), path);
      }
    }
  }
}

function readText(path: string, at: ConfigLocation, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    // Node's message is "ENOENT: no such file or directory, open '<path>'"; the path is already named.
    const reason = error instanceof Error ? error.message.replace(/, \w+ '.*'$/, "") : String(error);
    throw new ConfigError(`cannot read ${what} (${reason})`, at, "PUMP_CONFIG_FILE", { cause: error });
  }
}

/**
 * A definition as read from its file: the plain data, and where each part of it stands in the file
 * (the YAML parser's node ranges), so that every problem can name its line. JSON files are parsed
 * as JSON first (for JSON's own syntax errors), then through the YAML parser for the positions.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { DefinitionIssue } from "./errors.js";

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `pipelines[1].processors[2].config.batch_size`; keys that are not identifiers as `["watermark.low"]`. */
export function formatPath(path: Path): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** A definition's data with its origin. */
export interface DefinitionSource {
  /** The file as named (or `<definition>` for data given in code). */
  readonly file: string;
  /** Where relative module paths, `${THIS_DIR}` and packages are resolved from. */
  readonly dir: string;
  readonly data: unknown;
  /** The 1-based line of the value at `path` (of its key with `key`), or of the nearest enclosing one known. */
  lineOf(path: Path, key?: boolean): number | undefined;
}

export const IN_CODE = "<definition>";

/** Data given in code: no lines, paths resolved from `dir` (the working directory by default). */
export function sourceFromData(data: unknown, dir: string = process.cwd(), file: string = IN_CODE): DefinitionSource {
  return { file, dir: resolve(dir), data, lineOf: () => undefined };
}

/** Parses `text` (YAML, or JSON when `file` ends in `.json`); throws the syntax problems as issues. */
export function parseDefinitionText(text: string, file: string): DefinitionSource | DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  let json: { data: unknown } | undefined;
  if (file.toLowerCase().endsWith(".json")) {
    try {
      json = { data: JSON.parse(text) };
    } catch (error) {
      const message = (error as Error).message;
      const position = /position (\d+)/.exec(message);
      const line = position === null ? undefined : text.slice(0, Number(position[1])).split("\n").length;
      issues.push({ code: "PUMP_DEFINITION_SYNTAX", file, path: "", line, message: `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/su, "")}` });
      return issues;
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  for (const error of doc.errors) {
    const line = lineCounter.linePos(error.pos[0]).line;
    issues.push({ code: "PUMP_DEFINITION_SYNTAX", file, path: "", line, message: `not valid YAML: ${error.message.split("\n")[0]}` });
  }
  // Valid JSON the YAML parser does not take (it has limits JSON has not): the data, without lines.
  if (issues.length > 0 && json !== undefined) return { file, dir: dirname(resolve(file)), data: json.data, lineOf: () => undefined };
  if (issues.length > 0) return issues;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return [{ code: "PUMP_DEFINITION_SYNTAX", file, path: "", message: `not valid YAML: ${(error as Error).message}` }];
  }
  return {
    file,
    dir: dirname(resolve(file)),
    data,
    lineOf: (path, key) => {
      const offset = offsetOf(doc, path, key === true);
      return offset === undefined ? undefined : lineCounter.linePos(offset).line;
    },
  };
}

/** Reads and parses a definition file. */
export function readDefinitionFile(file: string): DefinitionSource | DefinitionIssue[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/, \w+ '.*'$/, "") : String(error);
    return [{ code: "PUMP_DEFINITION_SYNTAX", file, path: "", message: `cannot read the definition file (${reason})` }];
  }
  return parseDefinitionText(text.replace(/^\uFEFF/, ""), file);
}

/** The start offset of the node at `path`, or of its key; the deepest node found on the way otherwise. */
function offsetOf(doc: Document, path: Path, key: boolean): number | undefined {
  let node: unknown = doc.contents;
  let found = rangeStart(node);
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) return found;
      if (last && key) return rangeStart(pair.key) ?? found;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else {
      return found;
    }
    found = rangeStart(node) ?? found;
  }
  return found;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

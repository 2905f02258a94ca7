/**
 * Every error @pump/cli raises, in one place. A definition that cannot be loaded is one
 * `DefinitionError` holding every problem found (`issues`), each with the file, the path inside it,
 * the line when known and what was expected, so `pump check` can list them all at once.
 */
import { PumpError, type PumpErrorCode } from "@pump/core";

/** What kind of problem an issue is; stable, for tests and tools. */
export type DefinitionIssueCode =
  /** The file cannot be read, or is not valid YAML/JSON. */
  | "PUMP_DEFINITION_SYNTAX"
  /** A key the definition format (or the component's ConfigDefaults) does not have. */
  | "PUMP_DEFINITION_KEY"
  /** A value of the wrong type, or a required key missing. */
  | "PUMP_DEFINITION_TYPE"
  /** Two connections, lookups, pipelines or components of one pipeline with the same id. */
  | "PUMP_DEFINITION_DUPLICATE"
  /** A package that is not installed, or cannot be imported. */
  | "PUMP_DEFINITION_PACKAGE"
  /** A class the package does not export, or one of the wrong kind (a Sink given as a source...). */
  | "PUMP_DEFINITION_CLASS"
  /** Components in an order a pipeline cannot have: something after a sink, no sink at the end. */
  | "PUMP_DEFINITION_ORDER"
  /** A connection that is not declared, or one a component needs and was not given. */
  | "PUMP_DEFINITION_REFERENCE"
  /** A config value of the wrong type for its key. */
  | "PUMP_DEFINITION_CONFIG"
  /** `${VAR}` with VAR not set in the environment. */
  | "PUMP_DEFINITION_ENV"
  /** A component's constructor refused its arguments or config. */
  | "PUMP_DEFINITION_BUILD"
  /** A pump built in code that a definition cannot express (an argument that is not data...). */
  | "PUMP_DEFINITION_EXPRESS";

export interface DefinitionIssue {
  code: DefinitionIssueCode;
  /** The definition file, or `<definition>` for one given as an object. */
  file: string;
  /** Where inside it, e.g. `pipelines[1].processors[2].config.batch_size`; "" for the whole file. */
  path: string;
  /** 1-based line in the file, when the parser knows it. */
  line?: number | undefined;
  /** What is wrong and what was expected. */
  message: string;
}

/** `file:line: path: message`, the way compilers print, so editors can jump to it. */
export function formatIssue(issue: DefinitionIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path === "" ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

export type CliErrorCode = "PUMP_DEFINITION";

/**
 * The base of this package's errors. (Core types `PumpError.code` as its own closed union, so the
 * codes of this package are passed through a cast, as the connector packages do.)
 */
export class CliError extends PumpError {
  constructor(code: CliErrorCode, message: string, options?: ErrorOptions) {
    super(code as unknown as PumpErrorCode, message, options);
  }
}

/** A definition that cannot be loaded, built or written: every problem found, in file order. */
export class DefinitionError extends CliError {
  readonly issues: readonly DefinitionIssue[];

  constructor(issues: readonly DefinitionIssue[], options?: ErrorOptions) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super("PUMP_DEFINITION", `${count} in the pump definition:\n${issues.map(formatIssue).join("\n")}`, options);
    this.issues = issues;
  }
}

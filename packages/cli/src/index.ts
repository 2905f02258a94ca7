export type {
  PumpDefinition,
  ConnectionDefinition,
  LookupDefinition,
  PipelineDefinition,
  SourceDefinition,
  ComponentDefinition,
  TriggerDefinition,
  ClassReference,
} from "./definition.js";
export { loadDefinition, type LoadOptions, type LoadedDefinition, type ResolvedClass } from "./load.js";
export { buildPump, createPump, definitionEntryOf, type CreatePumpOptions, type BuiltFrom } from "./build.js";
export { definitionOf, type DefinitionOfOptions } from "./definition-of.js";
export { stringifyDefinition } from "./stringify.js";
export { listComponents, formatComponents, installedPumpPackages, type PackageInfo, type ComponentInfo } from "./list.js";
export { main, USAGE, type CliOutput } from "./cli.js";
export type { ComponentKind } from "./introspect.js";
export { CliError, DefinitionError, formatIssue, type CliErrorCode, type DefinitionIssue, type DefinitionIssueCode } from "./errors.js";

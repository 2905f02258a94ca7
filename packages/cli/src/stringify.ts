import { stringify } from "yaml";
import type { PumpDefinition } from "./definition.js";

/** A definition as the text of a definition file: YAML (the default) or JSON. */
export function stringifyDefinition(definition: PumpDefinition, format: "yaml" | "json" = "yaml"): string {
  return format === "json" ? `${JSON.stringify(definition, null, 2)}\n` : stringify(definition, { lineWidth: 0 });
}

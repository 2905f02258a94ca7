import { ConfigError, type Config } from "@pump/core";

export type RequestBody = Record<string, unknown>;

/**
 * The request body a source sends: the constructor's `requestBody`, else the `request_body` config
 * key (a JSON object), else `fallback()`. Returned as a deep copy the source may change.
 */
export function requestBodyOf(config: Config, given: RequestBody | undefined, fallback: () => RequestBody | undefined): RequestBody | undefined {
  if (given !== undefined) return structuredClone(given);
  const text = config.get("request_body").trim();
  if (text === "") return fallback();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`not JSON: ${(error as Error).message}`, { section: config.section, key: "request_body" }, "PUMP_CONFIG_VALUE", { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("expected a JSON object", { section: config.section, key: "request_body" }, "PUMP_CONFIG_VALUE");
  }
  return parsed as RequestBody;
}

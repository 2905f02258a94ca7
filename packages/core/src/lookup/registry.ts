import { fileURLToPath } from "node:url";
import { ConfigError, DuplicateError, UsageError, type ConfigLocation } from "../errors.js";
import { FileBatchLookupProvider } from "./file-provider.js";
import type { Lookup } from "./lookup.js";
import type { LookupProvider, LookupProviderFactory, LookupProviderOptions } from "./provider.js";

/** A URL scheme of two characters or more: a one-letter "scheme" is a Windows drive (`C:\data.json`). */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

function normalize(scheme: string): string {
  const name = scheme.trim().toLowerCase().replace(/:$/, "");
  if (!/^[a-z][a-z0-9+.-]+$/.test(name)) throw new UsageError(`'${scheme}' is not a URL scheme (e.g. "http:")`);
  return `${name}:`;
}

const fileFactory: LookupProviderFactory = (lookup, url, options) => {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new ConfigError(`'${url}' is not a valid file: URL (${(error as Error).message})`, { section: `lookup:${lookup.id}`, key: "source_url" }, "PUMP_CONFIG_VALUE", { cause: error });
  }
  return new FileBatchLookupProvider(lookup, path, options);
};

const factories = new Map<string, LookupProviderFactory>([["file:", fileFactory]]);

/**
 * Lets lookups take `source_url`s of a scheme: `registerLookupProvider("http:", factory)` (the HTTP
 * package registers "http:" and "https:"). Registering the same factory again changes nothing; another
 * factory for a taken scheme is a DuplicateError (call the returned function, or
 * `unregisterLookupProvider`, first). Returns a function that removes the registration.
 */
export function registerLookupProvider(scheme: string, factory: LookupProviderFactory): () => void {
  const key = normalize(scheme);
  const current = factories.get(key);
  if (current !== undefined && current !== factory) throw new DuplicateError("Lookup provider for scheme", key);
  factories.set(key, factory);
  return () => {
    if (factories.get(key) === factory) factories.delete(key);
  };
}

/** Removes the factory of a scheme; false if there was none. */
export function unregisterLookupProvider(scheme: string): boolean {
  return factories.delete(normalize(scheme));
}

/** The schemes a `source_url` may use, besides a plain path (e.g. `["file:", "http:", "https:"]`). */
export function lookupProviderSchemes(): string[] {
  return [...factories.keys()].toSorted();
}

/**
 * The provider for a `source_url`, chosen as BSPump does: a plain path (absolute or relative) or a
 * `file:` URL is a FileBatchLookupProvider (the lookup is then a master); another scheme goes to the
 * factory registered for it. A scheme nobody registered is a ConfigError at `at`.
 */
export function createLookupProvider(lookup: Lookup<unknown, unknown>, url: string, options: LookupProviderOptions = {}, at: ConfigLocation = {}): LookupProvider {
  const match = SCHEME.exec(url);
  if (match === null) return new FileBatchLookupProvider(lookup, url, options);
  const scheme = `${match[1]!.toLowerCase()}:`;
  const factory = factories.get(scheme);
  if (factory === undefined) {
    const hint = scheme === "http:" || scheme === "https:" ? "; import the package that provides HTTP lookups (it registers them)" : "";
    throw new ConfigError(
      `no lookup provider for '${scheme}' URLs (known: ${lookupProviderSchemes().join(", ")} and plain paths; others come from registerLookupProvider()${hint})`,
      at,
      "PUMP_CONFIG_VALUE",
    );
  }
  return factory(lookup, url, options);
}

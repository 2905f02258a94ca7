export { Lookup, type LookupOptions } from "./lookup.js";
export { MappingLookup } from "./mapping-lookup.js";
export { DictionaryLookup, type DictionaryInput } from "./dictionary-lookup.js";
export { AsyncLookup, type AsyncLookupCounters } from "./async-lookup.js";
export { LookupProvider, BatchLookupProvider, type LookupProviderFactory, type LookupProviderOptions } from "./provider.js";
export { FileBatchLookupProvider, etagOf } from "./file-provider.js";
export { registerLookupProvider, unregisterLookupProvider, lookupProviderSchemes, createLookupProvider } from "./registry.js";

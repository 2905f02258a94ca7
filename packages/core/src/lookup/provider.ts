import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import type { Logger } from "../logger.js";
import type { Lookup } from "./lookup.js";

export interface LookupProviderOptions {
  /** Names the config section `[lookupprovider:<id>]`; defaults to the lookup's id. */
  id?: string | undefined;
  /** Overrides `ConfigDefaults`; the `.conf` section overrides this. A lookup passes its own merged config here. */
  config?: ConfigValues | undefined;
}

/**
 * Where a lookup's data comes from (BSPump's LookupProviderABC): `load()` resolves the bytes, or
 * `undefined` when there is nothing (new) to load — the provider logs why. `etag` names the version
 * last loaded, when the source has one.
 *
 * Config: the class's `ConfigDefaults`, then the `config` given (a lookup passes its own section, so
 * `[lookup:L] use_cache=no` reaches its provider, as in BSPump), then `[lookupprovider:<id>]`.
 */
export abstract class LookupProvider {
  static ConfigDefaults: ConfigValues = {};

  readonly lookup: Lookup<unknown, unknown>;
  readonly app: PumpApplication;
  /** `lookupprovider:<id>`, as in BSPump. */
  readonly id: string;
  readonly url: string;
  readonly config: Config;
  readonly log: Logger;
  /** The version of the data last loaded (an HTTP ETag, a digest), when known. */
  etag: string | undefined;

  constructor(lookup: Lookup<unknown, unknown>, url: string, options: LookupProviderOptions = {}) {
    this.lookup = lookup;
    this.app = lookup.app;
    this.url = url;
    this.id = `lookupprovider:${options.id ?? lookup.id}`;
    this.config = Config.forClass(new.target, this.id, options.config, lookup.app.config);
    this.log = lookup.log.child({ provider: new.target.name, url }, "bspump.lookup.provider");
  }

  /** The data, or undefined when there is nothing (new) to load. Failures are logged, not thrown, where the lookup can go on with what it has. */
  abstract load(): Promise<Uint8Array | undefined>;

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name, URL: this.url, ...(this.etag === undefined ? {} : { ETag: this.etag }) };
  }
}

/** A provider that loads the whole data set at once (BSPump's LookupBatchProviderABC). */
export abstract class BatchLookupProvider extends LookupProvider {}

/**
 * Makes the provider for a `source_url` whose scheme a package registered
 * (`registerLookupProvider("http:", (lookup, url, options) => new HTTPBatchLookupProvider(lookup, url, options))`).
 */
export type LookupProviderFactory = (lookup: Lookup<unknown, unknown>, url: string, options: LookupProviderOptions) => LookupProvider;

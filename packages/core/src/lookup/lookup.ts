import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import type { Logger } from "../logger.js";
import { PubSub } from "../pubsub.js";

export interface LookupOptions {
  id?: string | undefined;
  config?: ConfigValues | undefined;
  /** A lazy lookup is not loaded when the application starts. */
  lazy?: boolean | undefined;
}

/**
 * A shared, named view of reference data that processors consult by id (`[lookup:<Id>]`). The
 * service loads every non-lazy lookup before pipelines start; `update()` reloads and tells
 * subscribers ("bspump.Lookup.changed!" on `lookup.pubsub`) when the data changed.
 */
export abstract class Lookup<Key = string, Value = unknown> {
  static ConfigDefaults: ConfigValues = {};

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;
  readonly pubsub: PubSub;
  readonly lazy: boolean;

  constructor(app: PumpApplication, id?: string | LookupOptions, options: LookupOptions = {}) {
    const opts = typeof id === "object" ? id : { ...options, id: id ?? options.id };
    this.app = app;
    this.id = opts.id ?? new.target.name;
    this.lazy = opts.lazy ?? false;
    this.config = Config.forClass(new.target, `lookup:${this.id}`, opts.config, app.config);
    this.log = app.log.child({ lookup: this.id }, "bspump.lookup");
    this.pubsub = new PubSub(this.log);
  }

  /** Loads the data; false when there was nothing new to load. */
  abstract load(): Promise<boolean>;

  abstract get(key: Key): Value | undefined | Promise<Value | undefined>;

  /** Loads, and publishes "bspump.Lookup.changed!" when something was loaded. */
  async update(): Promise<boolean> {
    const changed = await this.load();
    if (changed) this.pubsub.publish("bspump.Lookup.changed!", this);
    return changed;
  }

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name };
  }
}

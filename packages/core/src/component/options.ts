import type { ConfigValues } from "../config/config.js";

/** What every component constructor takes last: BSPump's `id=None, config=None`. */
export interface ComponentOptions {
  /** Defaults to the class name. Two instances of one class in a pipeline need distinct ids. */
  id?: string | undefined;
  /** Overrides `ConfigDefaults`; the `.conf` file section overrides this. */
  config?: ConfigValues | undefined;
}

import type { PumpApplication } from "../application/application.js";
import { Config, type ConfigValues } from "../config/config.js";
import type { Logger } from "../logger.js";
import type { ComponentOptions } from "./options.js";

/**
 * A link to an outside system, shared by the components that locate it by id. Config section
 * `[connection:<Id>]`. The service calls `connect()` before pipelines start and `disconnect()` after
 * they stopped; components call `acquire()` for the client.
 */
export abstract class Connection {
  static ConfigDefaults: ConfigValues = {};

  readonly app: PumpApplication;
  readonly id: string;
  readonly config: Config;
  readonly log: Logger;

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    const opts = typeof id === "object" ? id : { ...options, id: id ?? options.id };
    this.app = app;
    this.id = opts.id ?? new.target.name;
    this.config = Config.forClass(new.target, `connection:${this.id}`, opts.config, app.config);
    this.log = app.log.child({ connection: this.id }, "bspump.connection");
  }

  /** Opens the link; called once by the service before pipelines start. */
  async connect(): Promise<void> {}

  /** Closes the link; called once by the service after pipelines stopped. */
  async disconnect(): Promise<void> {}

  /** The client components use. */
  acquire(): unknown {
    return this;
  }

  time(): number {
    return this.app.time();
  }

  restGet(): Record<string, unknown> {
    return { Id: this.id, Class: this.constructor.name };
  }
}

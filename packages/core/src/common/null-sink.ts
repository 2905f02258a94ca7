import { Sink } from "../component/sink.js";
import type { ConfigValues } from "../config/config.js";
import type { Context } from "../context.js";

/** Takes every event and does nothing with it (the event counts as out, and its delivery is confirmed). */
export class NullSink<In = unknown> extends Sink<In> {
  /** BSPump has no configuration for it. */
  static override ConfigDefaults: ConfigValues = {};

  process(_context: Context, _event: In): void {}
}

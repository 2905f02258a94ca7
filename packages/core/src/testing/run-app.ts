import { ConfigFile } from "../config/conf-file.js";
import { PumpApplication } from "../application/application.js";
import { until } from "./until.js";

/** An application that reads no command line, with its configuration given as `.conf` text. */
export function createApp(conf = ""): PumpApplication {
  return new PumpApplication({ args: [], config: ConfigFile.parse(conf) });
}

/** An application run by a test: `started` once its pipelines run, `stop()` and `done` give its exit code. */
export interface RunningApp {
  readonly started: Promise<void>;
  readonly done: Promise<number>;
  stop(): Promise<number>;
}

/** Runs `app` (as `app.run()` does for a pump) until `stop()`. */
export function runApp(app: PumpApplication): RunningApp {
  const done = app.run();
  return {
    started: until(() => app.pumpService.running, "the pump to start"),
    done,
    stop: () => {
      app.stop();
      return done;
    },
  };
}

import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";

/** What the command line of a pump says (BSPump's switches that make sense here). */
export interface CommandLine {
  /** `-c FILE`: the .conf file. */
  config: string | undefined;
  /** `-v`: debug logging. */
  verbose: boolean;
  /** `-w [ADDR]`: serve the web API on ADDR (`[web] listen`). */
  webListen: string | undefined;
  help: boolean;
}

export const USAGE = `Options:
  -c, --config FILE    read configuration from FILE (.conf, sections as in BSPump)
  -v, --verbose        log debug messages
  -w, --web-api ADDR   serve the REST API on ADDR (sets [web] listen), e.g. 127.0.0.1:8080
  -h, --help           show this help and exit
Signals: SIGINT/SIGTERM stop in order (a second one forces exit), SIGUSR1 clears pipeline errors.`;

export function parseCommandLine(args: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: "string", short: "c" },
        verbose: { type: "boolean", short: "v", default: false },
        "web-api": { type: "string", short: "w" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  return {
    config: values.config,
    verbose: values.verbose,
    webListen: values["web-api"],
    help: values.help,
  };
}

// The plumbing of the apps' stand-ins (coindesk, weather, tarkov, fortnite): a node:http server on
// 127.0.0.1 that closes cleanly, JSON answers, and `start:offline` (the stand-in, then the pump).
import { createServer, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { ConfigFile } from "@pump/core";

export interface Served {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Stops listening and drops the connections kept alive. */
  close(): Promise<void>;
}

/** Serves `handler` on `host:port` (port 0: any free port; `origin` tells which). */
export async function serve(handler: RequestListener, { host = "127.0.0.1", port = 0 } = {}): Promise<Served> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    origin: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Answers `status` with `body`: bytes as they are (a recorded answer), anything else as JSON. */
export function answer(response: ServerResponse, status: number, body: Buffer | object, contentType = "application/json; charset=utf-8"): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "Content-Type": contentType, "Content-Length": bytes.length }).end(bytes);
}

/**
 * `start:offline`: loads the pump's offline `.conf` file, starts the stand-in where it points the pump
 * (`start(config)`), then runs the pump's main module with `-c <that file>`, as if it had been given on
 * the command line. The stand-in is closed once the pump exited. `label` names the stand-in in a line
 * on stderr.
 */
export async function runOffline(
  conf: URL,
  label: string,
  start: (config: ConfigFile) => Promise<{ url: string; close(): Promise<void> }>,
  main: () => Promise<unknown>,
): Promise<void> {
  const path = fileURLToPath(conf);
  const standIn = await start(ConfigFile.load(path));
  process.stderr.write(`${label}: ${standIn.url}\n`);
  process.argv.splice(2, 0, "-c", path);
  try {
    await main();
  } finally {
    await standIn.close();
  }
}

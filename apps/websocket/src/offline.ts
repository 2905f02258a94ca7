// Both pumps without internet: `pnpm --filter @pump/app-websocket start:offline`. Starts the local
// stand-in of the Coindesk API (from apps/coindesk) where etc/offline.conf points the client's source,
// the server pump on the address of the client's sink (-w), and the client pump with that file.
// Ctrl-C stops all three.
import { fileURLToPath } from "node:url";
import { LABEL, startStandIn } from "@pump/app-coindesk/stand-in";
import { ConfigFile } from "@pump/core";
import { clientPump } from "./client.ts";
import { listening, serverPump } from "./server.ts";

const conf = fileURLToPath(new URL("../etc/offline.conf", import.meta.url));
const config = ConfigFile.load(conf);
const source = new URL(config.get("pipeline:SamplePipeline:HTTPClientTextSource", "url") ?? "");
const sink = new URL(config.get("pipeline:SamplePipeline:HTTPClientWebSocketSink", "url") ?? "");
const standIn = await startStandIn({ host: source.hostname, port: Number(source.port) });
process.stderr.write(`${LABEL}: ${standIn.url}\n`);

try {
  const server = serverPump(["-w", sink.host]);
  const client = clientPump(["-c", conf]);
  const serverRun = server.run();
  // The client starts once the server listens, so that its first connection finds it.
  const exitCodes = (await listening(server, serverRun)) ? await Promise.all([serverRun, client.run()]) : [await serverRun];
  process.exitCode = Math.max(...exitCodes);
} finally {
  await standIn.close();
}

// Both pumps of the tutorial at once, in one process: `pnpm --filter @pump/app-websocket start`.
// The server listens on 127.0.0.1:8080, the client sends it the Coindesk answers every 5 seconds, the
// server prints them. Ctrl-C stops both (each application stops on the signal).
import { clientPump } from "./client.ts";
import { listening, serverPump } from "./server.ts";

const server = serverPump([]);
const client = clientPump([]);
const serverRun = server.run();
// The client starts once the server listens, so that its first connection finds it.
const exitCodes = (await listening(server, serverRun)) ? await Promise.all([serverRun, client.run()]) : [await serverRun];
process.exitCode = Math.max(...exitCodes);

// The pump without internet: `pnpm --filter @pump/app-tarkov start:offline`. Starts the local stand-in
// of the tarkov-tools GraphQL API (stand-in.ts) where etc/offline.conf points the source, then runs the
// pump (main.ts) with `-c etc/offline.conf`. Ctrl-C stops both.
import { fileURLToPath } from "node:url";
import { ConfigFile } from "@pump/core";
import { startStandIn } from "./stand-in.ts";

const conf = fileURLToPath(new URL("../etc/offline.conf", import.meta.url));
const url = new URL(ConfigFile.load(conf).get("pipeline:SamplePipeline:IOHTTPSource", "url") ?? "");
const standIn = await startStandIn({ host: url.hostname, port: Number(url.port) });
process.stderr.write(`tarkov-tools GraphQL API stand-in (recorded answer, not the real API): ${standIn.url}\n`);

process.argv.splice(2, 0, "-c", conf);
try {
  await import("./main.ts");
} finally {
  await standIn.close();
}

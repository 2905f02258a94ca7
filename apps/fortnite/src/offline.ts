// The pump without internet: `pnpm --filter @pump/app-fortnite start:offline`. Starts the local stand-in
// of the Fortnite Tracker API (stand-in.ts) where etc/offline.conf points the pump, with its api_key,
// then runs the pump (main.ts) with `-c etc/offline.conf`. Ctrl-C stops both.
import { fileURLToPath } from "node:url";
import { ConfigFile } from "@pump/core";
import { startStandIn } from "./stand-in.ts";

const conf = fileURLToPath(new URL("../etc/offline.conf", import.meta.url));
const config = ConfigFile.load(conf);
const url = new URL(config.get("pipeline:SamplePipeline", "url") ?? "");
const standIn = await startStandIn({ host: url.hostname, port: Number(url.port), apiKey: config.get("pipeline:SamplePipeline", "api_key") });
process.stderr.write(`Fortnite Tracker API stand-in (recorded answer, not the real API): ${standIn.url}\n`);

process.argv.splice(2, 0, "-c", conf);
try {
  await import("./main.ts");
} finally {
  await standIn.close();
}

// The pump without internet: `pnpm --filter @pump/app-kafka start:offline`. Starts the local stand-in
// of the Coindesk API (apps/coindesk's) where etc/offline.conf points the source, then runs the pump
// (main.ts) with `-c etc/offline.conf`. Kafka must run: KAFKA_BROKERS. Ctrl-C stops both.
import { fileURLToPath } from "node:url";
import { startStandIn } from "@pump/app-coindesk/stand-in";
import { ConfigFile } from "@pump/core";

const conf = fileURLToPath(new URL("../etc/offline.conf", import.meta.url));
const url = new URL(ConfigFile.load(conf).get("pipeline:SamplePipeline:HTTPClientSource", "url") ?? "");
const standIn = await startStandIn({ host: url.hostname, port: Number(url.port) });
process.stderr.write(`Coindesk API stand-in (recorded answers, not the real API): ${standIn.url}\n`);

process.argv.splice(2, 0, "-c", conf);
try {
  await import("./main.ts");
} finally {
  await standIn.close();
}

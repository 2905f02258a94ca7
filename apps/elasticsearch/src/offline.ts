// The pump without internet: `pnpm --filter @pump/app-elasticsearch start:offline`. Starts the local
// stand-in of the OpenWeather API (apps/weather's) where etc/offline.conf points the source, with its
// api_key, then runs the pump (main.ts) with `-c etc/offline.conf`. Elasticsearch must run: ES_URL.
// Ctrl-C stops both.
import { fileURLToPath } from "node:url";
import { startStandIn } from "@pump/app-weather/stand-in";
import { ConfigFile } from "@pump/core";

const conf = fileURLToPath(new URL("../etc/offline.conf", import.meta.url));
const config = ConfigFile.load(conf);
const url = new URL(config.get("pipeline:SamplePipeline:LoadSource", "url") ?? "");
const standIn = await startStandIn({ host: url.hostname, port: Number(url.port), apiKey: config.get("pipeline:SamplePipeline:LoadSource", "api_key") });
process.stderr.write(`OpenWeather API stand-in (recorded answers, not the real API): ${standIn.url}\n`);

process.argv.splice(2, 0, "-c", conf);
try {
  await import("./main.ts");
} finally {
  await standIn.close();
}

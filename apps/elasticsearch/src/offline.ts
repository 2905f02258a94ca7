// The pump without internet: `pnpm --filter @pump/app-elasticsearch start:offline`. Starts the local
// stand-in of the OpenWeather API (apps/weather's) where etc/offline.conf points the source, with its
// api_key, then runs the pump (main.ts) with `-c etc/offline.conf`. Elasticsearch must run: ES_URL.
// Ctrl-C stops both.
import { runOffline } from "@pump/app-coindesk/stand-in-server";
import { LABEL, standInFor } from "@pump/app-weather/stand-in";

await runOffline(new URL("../etc/offline.conf", import.meta.url), LABEL, standInFor, () => import("./main.ts"));

// The pump without internet: `pnpm --filter @pump/app-kafka start:offline`. Starts the local stand-in
// of the Coindesk API (apps/coindesk's) where etc/offline.conf points the source, then runs the pump
// (main.ts) with `-c etc/offline.conf`. Kafka must run: KAFKA_BROKERS. Ctrl-C stops both.
import { runOffline } from "@pump/app-coindesk/stand-in-server";
import { LABEL, standInFor } from "@pump/app-coindesk/stand-in";

await runOffline(new URL("../etc/offline.conf", import.meta.url), LABEL, standInFor, () => import("./main.ts"));

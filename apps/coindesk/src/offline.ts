// The pump without internet: `pnpm --filter @pump/app-coindesk start:offline`. Starts the local
// stand-in of the Coindesk API (stand-in.ts) where etc/offline.conf points the source, then runs the
// pump (main.ts) with `-c etc/offline.conf`. Ctrl-C stops both.
import { runOffline } from "./stand-in-server.ts";
import { LABEL, standInFor } from "./stand-in.ts";

await runOffline(new URL("../etc/offline.conf", import.meta.url), LABEL, standInFor, () => import("./main.ts"));

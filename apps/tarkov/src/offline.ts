// The pump without internet: `pnpm --filter @pump/app-tarkov start:offline`. Starts the local stand-in
// of the tarkov-tools GraphQL API (stand-in.ts) where etc/offline.conf points the source, then runs the
// pump (main.ts) with `-c etc/offline.conf`. Ctrl-C stops both.
import { runOffline } from "@pump/app-coindesk/stand-in-server";
import { LABEL, standInFor } from "./stand-in.ts";

await runOffline(new URL("../etc/offline.conf", import.meta.url), LABEL, standInFor, () => import("./main.ts"));

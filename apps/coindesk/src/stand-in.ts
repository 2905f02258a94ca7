// A LOCAL STAND-IN for the Coindesk API — not the real service. api.coindesk.com/v1/bpi has been
// retired, and the pump must run without internet anyway, so this small node:http server answers
// `GET /v1/bpi/currentprice.json` on 127.0.0.1 with answers recorded from the real API (the ones
// the tutorial shows, fixtures/currentprice/*.json), one after the other, round and round.
//
//   node src/stand-in.ts [port]      serves on 127.0.0.1:8701 (or the port given) until Ctrl-C
import { readdirSync, readFileSync } from "node:fs";
import type { ConfigFile } from "@pump/core";
import type { CurrentPrice } from "./pipeline.ts";
import { answer, serve } from "./stand-in-server.ts";

const fixtures = new URL("../fixtures/currentprice/", import.meta.url);

/** The recorded answers, as the bytes the API sent, in the order the stand-in serves them. */
export const RECORDED: readonly Buffer[] = readdirSync(fixtures)
  .filter((name) => name.endsWith(".json"))
  .toSorted()
  .map((name) => readFileSync(new URL(name, fixtures)));

/** The recorded answers, parsed. */
export function recordedPrices(): CurrentPrice[] {
  return RECORDED.map((body) => JSON.parse(body.toString("utf8")) as CurrentPrice);
}

export const PATH = "/v1/bpi/currentprice.json";

export interface StandIn {
  /** The URL to poll: `http://127.0.0.1:<port>/v1/bpi/currentprice.json`. */
  readonly url: string;
  /** Requests answered with a price so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/** Starts the stand-in on `host:port` (port 0: any free port; `url` tells which). */
export async function startStandIn({ host = "127.0.0.1", port = 0 } = {}): Promise<StandIn> {
  let requests = 0;
  const server = await serve(
    (request, response) => {
      const path = new URL(request.url ?? "/", "http://stand-in").pathname;
      if (request.method !== "GET" || path !== PATH) return answer(response, 404, Buffer.from("Not found\n"), "text/plain");
      return answer(response, 200, RECORDED[requests++ % RECORDED.length]!, "application/javascript");
    },
    { host, port },
  );
  return {
    url: `${server.origin}${PATH}`,
    get requests() {
      return requests;
    },
    close: server.close,
  };
}

/** What `start:offline` says on stderr about the stand-in. */
export const LABEL = "Coindesk API stand-in (recorded answers, not the real API)";

/** The stand-in where a pump's `.conf` file points it: on the address of [pipeline:SamplePipeline:HTTPClientSource] url. */
export function standInFor(config: ConfigFile): Promise<StandIn> {
  const url = new URL(config.get("pipeline:SamplePipeline:HTTPClientSource", "url") ?? "");
  return startStandIn({ host: url.hostname, port: Number(url.port) });
}

if (import.meta.main) {
  const standIn = await startStandIn({ port: Number(process.argv[2] ?? 8701) });
  process.stderr.write(`${LABEL}: ${standIn.url}\n`);
  const stop = (): void => void standIn.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

// A LOCAL STAND-IN for the Fortnite Tracker store API — not the real service. The pump must run without
// internet and without an API key, so this small node:http server answers `GET /v1/store` on 127.0.0.1
// as the real API does: the store recorded in fixtures/store.json (the items the tutorial shows, and a
// few more) to a request with the right `TRN-Api-Key` header, 401 to one without.
//
//   node src/stand-in.ts [port] [api_key]      serves on 127.0.0.1:8704, key "stand-in", until Ctrl-C
import { readFileSync } from "node:fs";
import { answer, serve } from "@pump/app-coindesk/stand-in-server";
import type { ConfigFile } from "@pump/core";

/** The recorded answer, as the bytes the API sent (pretty-printed, with "\r\n"). */
export const RECORDED: Buffer = readFileSync(new URL("../fixtures/store.json", import.meta.url));

export const PATH = "/v1/store";

export interface StandIn {
  /** The store's URL: `http://127.0.0.1:<port>/v1/store`. */
  readonly url: string;
  /** Requests answered with the store so far. */
  readonly answered: number;
  close(): Promise<void>;
}

/** Starts the stand-in on `host:port` (port 0: any free port) accepting the API key `apiKey`. */
export async function startStandIn({ host = "127.0.0.1", port = 0, apiKey = "stand-in" } = {}): Promise<StandIn> {
  let answered = 0;
  const server = await serve(
    (request, response) => {
      if (request.method !== "GET" || new URL(request.url ?? "/", "http://stand-in").pathname !== PATH) return answer(response, 404, { message: "no Route matched with those values" });
      if (request.headers["trn-api-key"] !== apiKey) return answer(response, 401, { message: "Invalid authentication credentials" });
      answered++;
      return answer(response, 200, RECORDED);
    },
    { host, port },
  );
  return {
    url: `${server.origin}${PATH}`,
    get answered() {
      return answered;
    },
    close: server.close,
  };
}

/** What `start:offline` says on stderr about the stand-in. */
export const LABEL = "Fortnite Tracker API stand-in (recorded answer, not the real API)";

/** The stand-in where a pump's `.conf` file points it: on the address of [pipeline:SamplePipeline] url, accepting its api_key. */
export function standInFor(config: ConfigFile): Promise<StandIn> {
  const url = new URL(config.get("pipeline:SamplePipeline", "url") ?? "");
  return startStandIn({ host: url.hostname, port: Number(url.port), apiKey: config.get("pipeline:SamplePipeline", "api_key") });
}

if (import.meta.main) {
  const standIn = await startStandIn({ port: Number(process.argv[2] ?? 8704), apiKey: process.argv[3] ?? "stand-in" });
  process.stderr.write(`${LABEL}: ${standIn.url}\n`);
  const stop = (): void => void standIn.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

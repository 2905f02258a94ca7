// A LOCAL STAND-IN for the tarkov-tools GraphQL API — not the real service. The API has moved since
// the tutorial (and the pump must run without internet), so this small node:http server answers
// `POST /graphql` on 127.0.0.1 as the API answered the tutorial's query: the crafts recorded in
// fixtures/crafts.json. It knows no GraphQL: another query gets a GraphQL error.
//
//   node src/stand-in.ts [port]      serves on 127.0.0.1:8703 until Ctrl-C
import { readFileSync } from "node:fs";
import { answer, serve } from "@pump/app-coindesk/stand-in-server";
import type { ConfigFile } from "@pump/core";
import { query } from "./pipeline.ts";

/** The recorded answer to the tutorial's query, as the bytes the API sent. */
export const RECORDED: Buffer = readFileSync(new URL("../fixtures/crafts.json", import.meta.url));

export const PATH = "/graphql";

const squeeze = (text: string): string => text.replace(/\s+/g, " ").trim();

export interface StandIn {
  /** The GraphQL endpoint: `http://127.0.0.1:<port>/graphql`. */
  readonly url: string;
  /** Queries answered with the crafts so far. */
  readonly answered: number;
  close(): Promise<void>;
}

/** Starts the stand-in on `host:port` (port 0: any free port). */
export async function startStandIn({ host = "127.0.0.1", port = 0 } = {}): Promise<StandIn> {
  let answered = 0;
  const server = await serve(
    (request, response) => {
      if (new URL(request.url ?? "/", "http://stand-in").pathname !== PATH) return answer(response, 404, { errors: [{ message: "Not found" }] });
      if (request.method !== "POST") return answer(response, 405, { errors: [{ message: 'POST a JSON body {"query": ...}' }] });
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        let posted: { query?: unknown };
        try {
          posted = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { query?: unknown };
        } catch {
          return answer(response, 400, { errors: [{ message: "The body is not JSON" }] });
        }
        if (typeof posted.query !== "string" || squeeze(posted.query) !== squeeze(query)) {
          return answer(response, 200, { errors: [{ message: "The stand-in answers only the tutorial's crafts query" }], data: null });
        }
        answered++;
        return answer(response, 200, RECORDED);
      });
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
export const LABEL = "tarkov-tools GraphQL API stand-in (recorded answer, not the real API)";

/** The stand-in where a pump's `.conf` file points it: on the address of [pipeline:SamplePipeline:IOHTTPSource] url. */
export function standInFor(config: ConfigFile): Promise<StandIn> {
  const url = new URL(config.get("pipeline:SamplePipeline:IOHTTPSource", "url") ?? "");
  return startStandIn({ host: url.hostname, port: Number(url.port) });
}

if (import.meta.main) {
  const standIn = await startStandIn({ port: Number(process.argv[2] ?? 8703) });
  process.stderr.write(`${LABEL}: ${standIn.url}\n`);
  const stop = (): void => void standIn.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

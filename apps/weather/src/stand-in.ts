// A LOCAL STAND-IN for the OpenWeather "current weather" API — not the real service. The pump must run
// without internet and without an API key, so this small node:http server answers
// `GET /data/2.5/weather?q=<city>&units=metric&appid=<key>` on 127.0.0.1 as the real API does: the
// answers recorded for London, New York, Berlin and Prague (fixtures/weather/*.json), 404 for another
// city and 401 for a wrong key, with OpenWeather's bodies.
//
//   node src/stand-in.ts [port] [api_key]      serves on 127.0.0.1:8702, key "stand-in", until Ctrl-C
import { readdirSync, readFileSync } from "node:fs";
import { answer, serve } from "@pump/app-coindesk/stand-in-server";
import type { ConfigFile } from "@pump/core";

const fixtures = new URL("../fixtures/weather/", import.meta.url);

/** The recorded answers by city name in lower case, as the bytes the API sent. */
export const RECORDED: ReadonlyMap<string, Buffer> = new Map(
  readdirSync(fixtures)
    .filter((name) => name.endsWith(".json"))
    .map((name) => {
      const body = readFileSync(new URL(name, fixtures));
      return [(JSON.parse(body.toString("utf8")) as { name: string }).name.toLowerCase(), body] as const;
    }),
);

export const PATH = "/data/2.5/weather";

export interface StandIn {
  /** The `url` template for LoadSource: `http://127.0.0.1:<port>/data/2.5/weather?q={city}&units=metric&appid={api_key}`. */
  readonly url: string;
  /** Cities asked for, in order, answered or not. */
  readonly asked: readonly string[];
  close(): Promise<void>;
}

/** Starts the stand-in on `host:port` (port 0: any free port) accepting the API key `apiKey`. */
export async function startStandIn({ host = "127.0.0.1", port = 0, apiKey = "stand-in" } = {}): Promise<StandIn> {
  const asked: string[] = [];
  const server = await serve(
    (request, response) => {
      const url = new URL(request.url ?? "/", "http://stand-in");
      if (request.method !== "GET" || url.pathname !== PATH) return answer(response, 404, { cod: "404", message: "Internal error" });
      const city = url.searchParams.get("q") ?? "";
      asked.push(city);
      if (url.searchParams.get("appid") !== apiKey) {
        return answer(response, 401, { cod: 401, message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info." });
      }
      const recorded = RECORDED.get(city.toLowerCase());
      if (recorded === undefined) return answer(response, 404, { cod: "404", message: "city not found" });
      return answer(response, 200, recorded);
    },
    { host, port },
  );
  return { url: `${server.origin}${PATH}?q={city}&units=metric&appid={api_key}`, asked, close: server.close };
}

/** What `start:offline` says on stderr about the stand-in. */
export const LABEL = "OpenWeather API stand-in (recorded answers, not the real API)";

/** The stand-in where a pump's `.conf` file points it: on the address of [pipeline:SamplePipeline:LoadSource] url, accepting its api_key. */
export function standInFor(config: ConfigFile): Promise<StandIn> {
  const url = new URL(config.get("pipeline:SamplePipeline:LoadSource", "url") ?? "");
  return startStandIn({ host: url.hostname, port: Number(url.port), apiKey: config.get("pipeline:SamplePipeline:LoadSource", "api_key") });
}

if (import.meta.main) {
  const standIn = await startStandIn({ port: Number(process.argv[2] ?? 8702), apiKey: process.argv[3] ?? "stand-in" });
  process.stderr.write(`${LABEL}: ${standIn.url}\n`);
  const stop = (): void => void standIn.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

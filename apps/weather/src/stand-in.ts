// A LOCAL STAND-IN for the OpenWeather "current weather" API — not the real service. The pump must run
// without internet and without an API key, so this small node:http server answers
// `GET /data/2.5/weather?q=<city>&units=metric&appid=<key>` on 127.0.0.1 as the real API does: the
// answers recorded for London, New York, Berlin and Prague (fixtures/weather/*.json), 404 for another
// city and 401 for a wrong key, with OpenWeather's bodies.
//
//   node src/stand-in.ts [port] [api_key]      serves on 127.0.0.1:8702, key "stand-in", until Ctrl-C
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

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
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const answer = (status: number, body: unknown): void => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": bytes.length }).end(bytes);
    };
    if (request.method !== "GET" || url.pathname !== PATH) return answer(404, { cod: "404", message: "Internal error" });
    const city = url.searchParams.get("q") ?? "";
    asked.push(city);
    if (url.searchParams.get("appid") !== apiKey) {
      return answer(401, { cod: 401, message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info." });
    }
    const recorded = RECORDED.get(city.toLowerCase());
    if (recorded === undefined) return answer(404, { cod: "404", message: "city not found" });
    return answer(200, recorded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}${PATH}?q={city}&units=metric&appid={api_key}`,
    asked,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (import.meta.main) {
  const standIn = await startStandIn({ port: Number(process.argv[2] ?? 8702), apiKey: process.argv[3] ?? "stand-in" });
  process.stderr.write(`OpenWeather API stand-in (recorded answers, not the real API): ${standIn.url}\n`);
  const stop = (): void => void standIn.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

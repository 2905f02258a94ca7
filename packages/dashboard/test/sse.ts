// A Server-Sent Events client on node:http, for the stream tests: frames as they come, and a way to hang up.
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import type { DashboardFrame } from "../src/index.js";

export interface SseClient {
  response: IncomingMessage;
  /** Every event of type "frame" so far, parsed. */
  frames: DashboardFrame[];
  /** The `retry:` the server asked for, if any. */
  retry: number | undefined;
  /** The next frame after the ones seen so far. */
  next(): Promise<DashboardFrame>;
  /** Frame number `index` (0 is the first), once it came. */
  nth(index: number): Promise<DashboardFrame>;
  /** Hangs up (as a browser tab closing). */
  close(): void;
  closed: Promise<void>;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers: { accept: "text/event-stream", ...headers } }, (response) => {
      const client: SseClient = {
        response,
        frames: [],
        retry: undefined,
        next: () => client.nth(client.frames.length),
        nth: (index) =>
          new Promise((done, fail) => {
            const check = (): void => {
              if (client.frames.length > index) {
                response.off("data", check);
                done(client.frames[index]!);
              }
            };
            response.on("data", check);
            response.once("end", () => fail(new Error("the stream ended")));
            check();
          }),
        close: () => req.destroy(),
        closed: new Promise((done) => response.once("close", () => done())),
      };
      let buffer = "";
      response.setEncoding("utf8");
      // registered first, so frames are parsed before next()'s listener looks at them
      response.prependListener("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
            else if (line.startsWith("retry: ")) client.retry = Number(line.slice(7));
          }
          if (type === "frame") client.frames.push(JSON.parse(data.join("\n")) as DashboardFrame);
        }
      });
      resolve(client);
    });
    req.once("error", reject);
    req.end();
  });
}

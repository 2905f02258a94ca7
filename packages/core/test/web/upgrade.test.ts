import { connect } from "node:net";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { WebServer } from "../../src/web/index.js";
import { startPump, stopAll } from "./web-helpers.js";

afterEach(stopAll);

/** Sends a raw upgrade request and resolves the first line of the answer. */
async function upgrade(port: number, path: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
  let answer = "";
  for await (const chunk of socket) {
    answer += String(chunk);
    if (answer.includes("\r\n")) break;
  }
  socket.destroy();
  return answer.split("\r\n")[0]!;
}

describe("upgrades on the app's web server", () => {
  it("hands an upgrade for a mounted path to its handler, answers 404 for others", async () => {
    const seen: string[] = [];
    const pump = await startPump("[web]\nlisten=127.0.0.1:0\n", (app) => {
      WebServer.of(app).upgrade("/bspump/ws", (request, socket) => {
        seen.push(request.url ?? "");
        socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      });
    });
    const port = pump.web.address!.port;
    expect(await upgrade(port, "/bspump/ws?client=1")).toBe("HTTP/1.1 101 Switching Protocols");
    expect(seen).toEqual(["/bspump/ws?client=1"]);
    expect(await upgrade(port, "/elsewhere")).toBe("HTTP/1.1 404 Not Found");
    expect(() => pump.web.upgrade("/bspump/ws", () => {})).toThrow(/already mounted/);
  });
});

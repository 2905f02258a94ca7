import { spawn, type ChildProcess } from "node:child_process";
import { Agent, get } from "node:http";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { rawRequest } from "./web-helpers.js";

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
});

describe("a pump process with the web API", { timeout: 30_000 }, () => {
  it("exits by itself after SIGTERM, while a client holds a keep-alive connection and a stream", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS; // not vitest's loaders
    const child = spawn(
      process.execPath,
      ["--import", fileURLToPath(new URL("../fixtures/ts-resolve.mjs", import.meta.url)), fileURLToPath(new URL("./fixtures/web-pump.ts", import.meta.url)), "-w", "127.0.0.1:0"],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.add(child);
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

    for (let i = 0; i < 2000 && !/listening (\S+)\n/.test(out) && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const url = /listening (\S+)\n/.exec(out)?.[1];
    expect(url, err).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const agent = new Agent({ keepAlive: true });
    const first = await rawRequest(url!, "GET", "/bspump/v1/pipelines/Idle", { agent });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ Id: "Idle", Ready: true });
    const streamEnded = new Promise<void>((resolve) => {
      get(`${url}/stream`, (res) => {
        res.on("data", () => {});
        res.on("close", () => resolve());
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 50));

    const signalled = performance.now();
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(5000);
    await streamEnded;
    expect(err).toContain("Web API listening");
    expect(err).toContain("Web API closed");
    agent.destroy();
  });
});

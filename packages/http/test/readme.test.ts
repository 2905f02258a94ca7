import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlock, sourceImport } from "@pump/test-servers/process";
import { json, startServer } from "./helpers.js";

const example = fileURLToPath(new URL("./readme-example.ts", import.meta.url));

describe("the README's example", () => {
  it("is the code of test/readme-example.ts", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(codeBlock(readme, "ts", "## Example")).toBe(await readFile(example, "utf8"));
  });

  it("runs with the README's configuration: fetches the price once, posts it enriched to the webhook, exits 0", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const api = await startServer((_r, res) => void res.end('{"chartName":"Bitcoin","bpi":{"USD":{"code":"USD","rate_float":2}}}'));
    const webhook = await startServer();
    const dir = await mkdtemp(join(tmpdir(), "pump-http-readme-"));
    try {
      const conf = codeBlock(readme, "ini", "## Example").replace("127.0.0.1:8081", `127.0.0.1:${api.port}`).replace("127.0.0.1:8082", `127.0.0.1:${webhook.port}`);
      await writeFile(join(dir, "pump.conf"), conf);
      const child = spawn(process.execPath, ["--import", sourceImport(new URL("../", import.meta.url)), example, "-c", "pump.conf"], {
        cwd: dir,
        env: { ...process.env, WEBHOOK_TOKEN: "t0k3n" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, output).toBe(0);
      expect(api.requests.map((r) => r.url)).toEqual(["/v1/bpi/currentprice.json"]);
      expect(webhook.requests.length).toBe(1);
      expect(webhook.requests[0]!.url).toBe("/prices");
      expect(webhook.requests[0]!.headers.authorization).toBe("Bearer t0k3n");
      expect(json(webhook.requests[0]!.body)).toEqual({
        chartName: "Bitcoin",
        bpi: { USD: { code: "USD", rate_float: 2 }, JPY: { code: "JPY", rate_float: 227.4 } },
      });
    } finally {
      await api.close();
      await webhook.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

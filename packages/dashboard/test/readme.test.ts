import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlock, sourceImport } from "@pump/test-servers/process";
import type { DashboardFrame } from "../src/index.js";
import { until } from "./pump.js";
import { openStream } from "./sse.js";

const example = fileURLToPath(new URL("./readme-example.ts", import.meta.url));

describe("the README's example", () => {
  it("is the code of test/readme-example.ts", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(codeBlock(readme, "ts", "## Example")).toBe(await readFile(example, "utf8"));
  });

  it("serves the dashboard on the README's configuration, prints its URL, streams frames, and stops with 0 on SIGTERM", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const dir = await mkdtemp(join(tmpdir(), "pump-dashboard-"));
    const conf = codeBlock(readme, "ini", "## Example");
    expect(conf).toContain("listen=127.0.0.1:8080");
    await writeFile(join(dir, "pump.conf"), conf.replace("127.0.0.1:8080", "127.0.0.1:0"));
    const child = spawn(process.execPath, ["--import", sourceImport(new URL("../", import.meta.url)), example, "-c", "pump.conf"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PUMP_API_TOKEN: "t0ken" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => /dashboard: http:\/\/127\.0\.0\.1:\d+\/\n/.test(output) || child.exitCode !== null);
      const url = /dashboard: (\S+)\n/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("/dashboard/assets/dashboard.js");
      const stream = await openStream(new URL("/bspump/v1/dashboard/stream", url).href);
      let frame: DashboardFrame = await stream.nth(0);
      expect(frame.pump.tokenRequired).toBe(true);
      expect(frame.pipelines.map((p) => [p.id, p.depths.flat().map((c) => c.id)])).toEqual([["Readings", ["DropCold", "Store"]]]);
      while (frame.pipelines[0]!.counters.in === 0) frame = await stream.next();
      stream.close();
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, output).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { ConfigFile, PumpApplication } from "@pump/core";
import { describe, expect, it } from "vitest";
import { ConsoleSink, SensorPipeline } from "../src/sensor-pipeline.ts";

const here = fileURLToPath(new URL("..", import.meta.url));

describe("the demo pump", () => {
  it("converts, filters by the configured threshold and prints every reading", async () => {
    const app = new PumpApplication({ args: [], config: ConfigFile.load(`${here}etc/demo.conf`) });
    const pipeline = app.pumpService.addPipeline(new SensorPipeline(app, "SensorPipeline", 0.01));
    const lines: string[] = [];
    (pipeline.locateProcessor("ConsoleSink") as ConsoleSink).write = (line) => lines.push(line);
    const running = app.run();
    while (pipeline.metrics.in < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    app.stop();
    expect(await running).toBe(0);
    const { in: taken, out, drop } = pipeline.metrics.counters();
    expect(taken % 4).toBe(0); // 4 sensors per cycle, from demo.conf
    expect(out + drop).toBe(taken);
    expect(drop).toBeGreaterThan(0); // some readings are above 30 °C with seed 42
    expect(lines).toHaveLength(out);
    for (const line of lines) {
      const match = /^sensor-[1-4]\s+(-?\d+\.\d) °C$/.exec(line);
      expect(match, line).not.toBeNull();
      expect(Number(match![1])).toBeLessThanOrEqual(30);
    }
  });

  it("runs as a process, prints readings and stops in order on SIGINT with exit code 0", async () => {
    const child = spawn(process.execPath, ["src/main.ts", "-c", "etc/demo.conf"], { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    while (!stdout.includes("°C")) {
      if (child.exitCode !== null) throw new Error(`demo exited early: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGINT");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toMatch(/1 pipeline ready/);
    expect(stderr).toMatch(/Stopping.*SIGINT/);
    expect(stdout).toMatch(/^sensor-\d\s+-?\d+\.\d °C$/m);
  });
});

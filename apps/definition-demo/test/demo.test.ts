import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const APP = fileURLToPath(new URL("..", import.meta.url));
// The `pump` bin of the @pump/cli this app depends on, as `pnpm start` runs it.
const PUMP = join(dirname(createRequire(join(APP, "package.json")).resolve("@pump/cli/package.json")), "dist", "bin.js");

async function pump(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [PUMP, ...args], { cwd: APP, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("the definition demo", () => {
  it("is the definition its README shows, and the start script runs it", () => {
    const readme = readFileSync(join(APP, "README.md"), "utf8");
    expect(readme).toContain("```yaml\n" + readFileSync(join(APP, "pump.yaml"), "utf8") + "```");
    const scripts = (JSON.parse(readFileSync(join(APP, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe("pump run pump.yaml");
  });

  it("`pump run pump.yaml` prints every reading of inbox/ flattened, as the README shows, and leaves the files", async () => {
    const result = await pump("run", "pump.yaml");
    expect(result.code, result.stderr).toBe(0);
    const readme = readFileSync(join(APP, "README.md"), "utf8");
    expect(readme).toContain("```\n" + result.stdout + "```");
    expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(4);
    expect(readdirSync(join(APP, "inbox")).toSorted()).toEqual(["2026-11-01.ndjson", "2026-11-02.ndjson"]);
  });

  it("a .conf file overrides the definition's config; `pump check` validates it", async () => {
    const result = await pump("run", "pump.yaml", "-c", "etc/pump.conf");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe('{"sensor.id":"greenhouse-1","sensor.room":"greenhouse","reading.celsius":24.5,"reading.humidity":61}');
    const check = await pump("check", "pump.yaml");
    expect(check).toMatchObject({ code: 0, stdout: "pump.yaml: ok (1 pipeline, 0 connections, 0 lookups)\n" });
  });
});

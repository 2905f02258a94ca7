import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, PACKAGE_DIR, runPump } from "./helpers.js";

const README = readFileSync(join(PACKAGE_DIR, "README.md"), "utf8");
const TUTORIAL = join(FIXTURES, "tutorial", "pump.yaml");

describe("the README", () => {
  it("shows the tutorial definition and the lines `pump run` prints for it", async () => {
    expect(README).toContain("```yaml\n" + readFileSync(TUTORIAL, "utf8") + "```");
    const result = await runPump(["run", TUTORIAL]);
    expect(result.code, result.stderr).toBe(0);
    expect(README).toContain("```\n" + result.stdout + "```");
  });

  it("shows the same pump in code as the code version the tutorial test runs", () => {
    const code = readFileSync(join(FIXTURES, "tutorial", "pump.ts"), "utf8");
    const block = /```ts\n(const pipeline = [\s\S]*?)```/.exec(README)![1]!;
    for (const line of block.trim().split("\n")) expect(code).toContain(line.trim());
  });

  it("shows check's messages as check prints them", async () => {
    const shown = README.split("\n").filter((line) => /^pump\.yaml:\d+: /.test(line));
    expect(shown).toHaveLength(4);
    const result = await runPump(["check", join(FIXTURES, "readme-check.yaml")]);
    expect(result.code).toBe(1);
    const printed = result.stderr.split("\n").map((line) => line.replace(`${FIXTURES}/readme-check.yaml`, "pump.yaml").replace(/found from .* up\)/, "found from /srv/pump up)"));
    for (const line of shown) expect(printed).toContain(line);
  });
});

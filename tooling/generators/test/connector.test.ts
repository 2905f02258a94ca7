// Runs the `connector` generator of turbo/generators as a contributor would (`pnpm gen connector`), into
// packages/<a name of its own>, then builds, typechecks, lints and tests what it made, unedited; the
// package and its changeset are removed afterwards. The generated package is linked to @pump/core by
// hand instead of by `pnpm install`, which would rewrite the workspace's lockfile under the test run.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NAME = `gen-check-${process.pid}`;
const DIR = join(ROOT, "packages", NAME);
const CHANGESET = join(ROOT, ".changeset", `${NAME}-initial.md`);
const BIN = join(ROOT, "node_modules", ".bin");

/** A tool of the workspace run in the generated package; rejects with its output when it fails. */
async function run(tool: string, ...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await exec(join(BIN, tool), args, { cwd: DIR, env: { ...process.env, CI: "" }, maxBuffer: 16 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${tool} ${args.join(" ")} failed in ${DIR}:\n${stdout}${stderr}`, { cause: error });
  }
}

describe("turbo gen connector", () => {
  let generated = "";
  beforeAll(async () => {
    const cli = join(ROOT, "node_modules", "@turbo", "gen", "dist", "cli.js");
    const { stdout } = await exec(process.execPath, [cli, "run", "connector", "--root", ROOT, "--args", NAME, "A connector made by the generator's test."], { cwd: ROOT });
    generated = stdout;
    await mkdir(join(DIR, "node_modules", "@pump"), { recursive: true });
    await symlink(join(ROOT, "packages", "core"), join(DIR, "node_modules", "@pump", "core"), "dir");
  });
  afterAll(async () => {
    await rm(DIR, { recursive: true, force: true });
    await rm(CHANGESET, { force: true });
  });

  it("lays the package out like the other connectors, with a changeset", async () => {
    expect(generated).toMatch(/Success/);
    for (const file of ["package.json", "tsconfig.json", "tsconfig.build.json", "vitest.config.ts", "README.md", "src/index.ts", "src/errors.ts", "src/client.ts", "src/connection.ts", "src/source.ts", "src/sink.ts", "test/setup.ts", "test/conformance.test.ts"]) {
      expect(existsSync(join(DIR, file)), file).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(DIR, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: `@pump/${NAME}`,
      type: "module",
      engines: { node: ">=22.12" },
      files: ["dist", "README.md"],
      dependencies: { "@pump/core": "workspace:^" },
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    });
    expect(await readFile(CHANGESET, "utf8")).toContain(`"@pump/${NAME}": minor`);
    expect(await readFile(join(DIR, "src", "index.ts"), "utf8")).toContain("export { GenCheck");
  });

  it("is in the turbo pipeline with no further edits", async () => {
    const { stdout } = await exec(join(BIN, "turbo"), ["ls"], { cwd: ROOT });
    expect(stdout).toContain(`@pump/${NAME} packages/${NAME}`);
  });

  it("builds, typechecks and lints as generated", async () => {
    await run("tsc", "-p", "tsconfig.build.json");
    expect(existsSync(join(DIR, "dist", "index.js"))).toBe(true);
    await run("tsc", "-p", "tsconfig.json", "--noEmit");
    expect(await run("oxlint", "-c", "../../.oxlintrc.json", "src", "test")).toMatch(/Found 0 warnings and 0 errors/);
  });

  it("passes its tests, the conformance kit on the in-memory stand-in included", async () => {
    await run("vitest", "run");
    const report = JSON.parse(await readFile(join(DIR, ".vitest-report.json"), "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
    expect(report.numFailedTests).toBe(0);
    expect(report.numPendingTests).toBe(0);
    // the source kit's five cases and the sink kit's five
    expect(report.numPassedTests).toBe(10);
  });
});

// `npx pump run ...` in a fresh project after `pnpm add @pump/core @pump/cli`: the built packages are
// packed as they would be published, installed from the tarballs into a new folder, and the bin run there.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, PACKAGE_DIR, runProcess, tempProject } from "./helpers.js";

/** pnpm as the test runs under it (npm_execpath), else the one on PATH. */
function pnpm(args: readonly string[], cwd: string): ReturnType<typeof runProcess> {
  const execpath = process.env.npm_execpath;
  return execpath !== undefined && /pnpm/.test(execpath) && /\.c?js$/.test(execpath) ? runProcess(process.execPath, [execpath, ...args], { cwd }) : runProcess("pnpm", args, { cwd });
}

describe("a fresh project", () => {
  it("after installing @pump/core and @pump/cli, `npx pump` runs, checks and lists the project's definitions", async () => {
    const project = tempProject({
      "examples/orders.yaml": readFileSync(join(FIXTURES, "tutorial", "pump.yaml"), "utf8"),
      "examples/kafka.yaml": "pipelines:\n  - id: P\n    sources:\n      - {package: '@pump/kafka', class: KafkaSource, connection: Kafka}\n    sink: {class: PrintSink}\n",
    });
    const vendor = join(project, "vendor");
    for (const name of ["core", "cli"]) {
      const packed = await pnpm(["pack", "--pack-destination", vendor], join(PACKAGE_DIR, "..", name));
      expect(packed.code, packed.stderr).toBe(0);
    }
    const tarballs = readdirSync(vendor);
    const core = tarballs.find((file) => file.startsWith("pump-core-"))!;
    const cli = tarballs.find((file) => file.startsWith("pump-cli-"))!;
    // @pump/cli depends on "@pump/core": "^x.y.z": it must be this tarball, not a registry's package.
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "fresh", private: true, type: "module", pnpm: { overrides: { "@pump/core": `file:vendor/${core}` } } }));
    const added = await pnpm(["add", `./vendor/${core}`, `./vendor/${cli}`, "--prefer-offline", "--reporter=append-only"], project);
    expect(added.code, added.stdout + added.stderr).toBe(0);

    const run = await runProcess("npx", ["--no", "pump", "run", "examples/orders.yaml"], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        '{"id":1,"customer_name":"Ann","customer_city":"Brno","lines":2,"total":12.5}',
        '{"id":2,"customer_name":"Bob","customer_city":"Praha","lines":1,"total":3}',
        '{"id":3,"customer_name":"Cyril","customer_city":"Olomouc","lines":5,"total":99.9}',
        "",
      ].join("\n"),
    );

    const check = await runProcess("npx", ["--no", "pump", "check", "examples/kafka.yaml"], { cwd: project });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("examples/kafka.yaml:4: pipelines[0].sources[0].package: package '@pump/kafka' is not installed");
    expect(check.stderr).toContain("pnpm add @pump/kafka");

    const list = await runProcess("npx", ["--no", "pump", "list"], { cwd: project });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^@pump\/core \d+\.\d+\.\d+ {2}\(.*node_modules.*\)\n/);
    expect(list.stdout).toMatch(/\n {2}IteratorSource +TriggerSource +args: \[iterable\]\n {6}batch_size: 1000\n/);
  });
});

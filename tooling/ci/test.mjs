// `pnpm test`: lint, typecheck and test every package with turbo, then add up the vitest reports
// into one closing line. Under CI a skipped test fails the run: there every server is up.
import { spawnSync } from "node:child_process";
import { globSync, readFileSync, rmSync } from "node:fs";
import { delimiter, resolve } from "node:path";

const reports = () => globSync("{packages,apps,tooling}/*/.vitest-report.json");

// Stale reports must not count; turbo restores them from its cache when a package is unchanged.
for (const file of reports()) rmSync(file);

// The workspace's own turbo, whether this runs under `pnpm test` or as `node tooling/ci/test.mjs`.
const env = { ...process.env, PATH: `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` };
const turbo = (...args) => {
  const run = spawnSync("turbo", ["run", ...args, "--continue", ...process.argv.slice(2)], { stdio: "inherit", env });
  if (run.error !== undefined) console.error(`cannot run turbo: ${run.error.message}`);
  return run.status === 0;
};
// Lint and typecheck in parallel; tests one package at a time, because connector suites restart the
// servers they share (a Kafka or Elasticsearch restart must not pull the server from under another suite).
const checked = turbo("lint", "typecheck");
const tested = turbo("test", "--concurrency=1");
let failed = !checked || !tested;

const totals = { passed: 0, failed: 0, skipped: 0 };
const skippedSuites = [];
for (const file of reports()) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  const skipped = report.numPendingTests + report.numTodoTests;
  totals.skipped += skipped;
  if (skipped > 0) skippedSuites.push(`${file.replace("/.vitest-report.json", "")}: ${skipped} skipped`);
}

if (skippedSuites.length > 0) {
  console.log(`\nSkipped tests:\n  ${skippedSuites.join("\n  ")}`);
  if (process.env.CI) {
    console.log("CI runs every suite: a skipped test fails the run (see tooling/servers/README.md to start the servers).");
    failed = true;
  }
}
if (totals.passed + totals.failed === 0) {
  console.log("No test ran.");
  failed = true;
}
console.log(`\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failed || totals.failed > 0 ? 1 : 0);

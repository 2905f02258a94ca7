// Pumps run as child processes by the packages' tests: PumpProcess (`node <script>`, Node strips the
// types; its stdout lines kept: the kill -9 tests of the connectors start, kill and restart such pumps),
// buildPackage for those that import a built package, and what the README-example tests share.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, globSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function newest(root, pattern) {
  return Math.max(0, ...globSync(pattern, { cwd: root }).map((file) => statSync(join(root, file)).mtimeMs));
}

/**
 * Builds a package's dist/ (tsconfig.build.json, the workspace's tsc) when a source is newer than the
 * build: the pumps a test runs as processes import the built package, as an application would. Turbo
 * has built it when the tests run under it; a build here then would rewrite files other packages'
 * tests may be reading, so an up-to-date dist is left alone.
 */
export function buildPackage(packageRoot, entry = "dist/index.js") {
  const root = packageRoot instanceof URL ? fileURLToPath(packageRoot) : packageRoot;
  if (existsSync(join(root, entry)) && newest(root, "dist/**/*.js") >= newest(root, "src/**/*.ts")) return;
  const tsc = join(dirname(createRequire(join(root, "package.json")).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
}

export class PumpProcess {
  constructor(script, env, args = []) {
    this.lines = [];
    this.stderrTail = "";
    this.child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    this.child.stdout.on("data", (chunk) => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop();
      this.lines.push(...parts);
    });
    this.child.stderr.on("data", (chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-20_000);
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(signal === null ? code : null)));
  }

  get stderr() {
    return this.stderrTail;
  }

  last(prefix) {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].startsWith(prefix)) return this.lines[i].slice(prefix.length).trim();
    return undefined;
  }

  kill(signal) {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** The code of the first ```language block after the line `after` (a heading) in a Markdown text. */
export function codeBlock(markdown, language, after) {
  const heading = markdown.indexOf(after);
  if (heading === -1) throw new Error(`no '${after}' in the text`);
  const fence = `\`\`\`${language}\n`;
  const start = markdown.indexOf(fence, heading);
  if (start === -1) throw new Error(`no \`\`\`${language} block after '${after}'`);
  return markdown.slice(start + fence.length, markdown.indexOf("```", start + fence.length));
}

/** Node's `--import` argument that runs a TypeScript script against the sources of the package at `packageRoot` (resolve-ts.mjs). */
export function sourceImport(packageRoot) {
  const root = packageRoot instanceof URL ? fileURLToPath(packageRoot) : packageRoot;
  const hook = new URL("./resolve-ts.mjs", import.meta.url);
  hook.searchParams.set("root", root.replace(/\/$/, ""));
  return hook.href;
}

import { execFileSync } from "node:child_process";
import { existsSync, globSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function newest(pattern: string): number {
  return Math.max(0, ...globSync(pattern, { cwd: ROOT }).map((file) => statSync(join(ROOT, file)).mtimeMs));
}

/**
 * Builds dist/ (the bin the process tests spawn and the package the install test packs) when src/ is
 * newer. Turbo builds it before the tests already; a build here then would rewrite files that other
 * packages' tests may be running.
 */
export default function setup(): void {
  if (existsSync(join(ROOT, "dist", "bin.js")) && newest("dist/**/*.js") >= newest("src/**/*.ts")) return;
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
}

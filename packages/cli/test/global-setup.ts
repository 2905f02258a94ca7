import { buildPackage } from "@pump/test-servers/process";

/** The process tests spawn dist/bin.js and the install test packs the package: build it when src/ is newer. */
export default function setup(): void {
  buildPackage(new URL("..", import.meta.url), "dist/bin.js");
}

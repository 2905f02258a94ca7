import { buildPackage } from "@pump/test-servers/process";

/** The README example test runs a pump that imports the built package (`dist`): bring it up to date with the sources. */
export default function setup(): void {
  buildPackage(new URL("..", import.meta.url));
}

// Chromium for the end-to-end tests: Debian's (`apt-get install chromium`), driven by playwright-core,
// which never downloads a browser. Without it the suite is skipped with one line saying so; with CI set
// it fails instead, so CI never skips the browser tests.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { describe, it } from "vitest";

/** Where Chromium is: PUMP_CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.PUMP_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Flags for a closed network: nothing is fetched in the background (without them Chromium's own
 * connections are refused here and it stalls), no sandbox (CI runs as root), no GPU.
 */
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

export function describeWithChromium(name: string, body: (executable: string) => void): void {
  if (!existsSync(CHROMIUM)) {
    const line = `Chromium not found at ${CHROMIUM}: apt-get install chromium (or set PUMP_CHROMIUM)`;
    if (process.env.CI) {
      describe(name, () => {
        it("needs Chromium in CI", () => {
          throw new Error(line);
        });
      });
      return;
    }
    console.warn(`skipped: ${line}`);
    describe.skip(name, () => {
      it(line, () => {});
    });
    return;
  }
  describe(name, () => body(CHROMIUM));
}

/** Headless Chromium with a fresh profile; `close()` removes the profile. */
export async function launch(executable: string): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), "pump-dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: executable,
    headless: true,
    args: ARGS,
    viewport: { width: 1360, height: 900 },
    colorScheme: "light",
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // The `pump` bin runs from dist/: build it once before the suites that spawn it.
    globalSetup: ["test/global-setup.ts"],
    // @pump/core is loaded by Node itself, as in a real project, so the packages a definition names
    // (imported by Node from their node_modules) and this package share one copy of it.
    server: { deps: { external: [/\/packages\/core\/dist\//] } },
    // No time limits: a slow machine makes a test slow, not wrong.
    testTimeout: 0,
    hookTimeout: 0,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

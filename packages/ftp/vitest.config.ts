import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Bounds, not expectations: a test waits for retries, reconnections and slow sinks.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

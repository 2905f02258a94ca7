import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // The suites share the broker and one of them restarts it: run the files one at a time.
    fileParallelism: false,
    // Bounds, not expectations: a test against the broker may wait for it to restart.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

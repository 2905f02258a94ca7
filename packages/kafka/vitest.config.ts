import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // The fixtures run the built package in child processes: build it first.
    globalSetup: ["test/global-setup.ts"],
    // Suites against the broker share it, and one of them restarts it: run the files one at a time.
    fileParallelism: false,
    // Bounds, not expectations: a test against the broker waits for group rebalances and restarts.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

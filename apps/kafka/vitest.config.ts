import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A guard against a hung test, not a speed limit: the pump polls every 5 seconds, as in the tutorial,
    // and reading the topic back waits for a consumer group to form.
    testTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A guard against a hung test, not a speed limit: the pump asks every 5 seconds, as in the tutorial,
    // and Elasticsearch takes its time on a loaded machine.
    testTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

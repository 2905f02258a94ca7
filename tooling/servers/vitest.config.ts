import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    // real servers: connection set-up and first-use topic/index creation take a few seconds
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

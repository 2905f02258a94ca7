import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // No time limits: the pump runs as a process, as `pnpm start` runs it.
    testTimeout: 0,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});

import { defineConfig } from 'vitest/config';

// Two projects: "fast" needs no external tools (pure planning, parsing, templates); "slow" runs the real
// rpmbuild, compilers, Debian header downloads, QEMU guests and the armkit CLI. `npm test` runs both.
// ARMKIT_TEST_REPORT=FILE also writes vitest's JSON report there (CI counts the results from it).
const report = process.env.ARMKIT_TEST_REPORT;

export default defineConfig({
  test: {
    ...(report ? { reporters: ['default', 'json'], outputFile: { json: report } } : {}),
    projects: [
      { test: { name: 'fast', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'slow',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Builds share the kernel header cache and 2 cores; one file at a time keeps timings sane.
          fileParallelism: false,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // Benchmarks measure and never fail a test run: `npm run bench`.
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});

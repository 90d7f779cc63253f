import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'electron/**/*.test.ts', 'training/**/*.test.ts', 'tests/**/*.test.ts', 'renderer/src/**/*.test.ts', 'build/**/*.test.ts'],
    // Numeric training tests and the e2e run share 2 cores; running files in parallel only thrashes.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});

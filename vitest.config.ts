import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  // Compiles the renderer's runes modules (*.svelte.ts) so their tests run the real state classes.
  plugins: [svelte({ configFile: false })],
  test: {
    include: ['core/**/*.test.ts', 'electron/**/*.test.ts', 'training/**/*.test.ts', 'tests/**/*.test.ts', 'renderer/src/**/*.test.ts', 'build/**/*.test.ts'],
    // Numeric training tests and the e2e run share 2 cores; running files in parallel only thrashes.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});

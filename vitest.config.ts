import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Guests run on the main thread through a native engine; forks keep a crashing
    // native call from taking the runner down with it.
    pool: 'forks',
  },
});

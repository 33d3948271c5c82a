import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Battery tests start worker threads of their own; two files at a time fit two cores.
    maxWorkers: 2,
  },
});

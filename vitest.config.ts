import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Concurrency and crash tests spawn their own processes; two files at a time keeps
    // them from starving each other on a 2-core machine.
    maxWorkers: 2,
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // One graphql for everyone: vite would give src/ and test/ graphql's ESM build while
    // yoga, graphql-ws and Pothos load its CommonJS build (as Node does), and two copies
    // of GraphQLError break every instanceof check.
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Concurrency and crash tests spawn their own processes; two files at a time keeps
    // them from starving each other on a 2-core machine.
    maxWorkers: 2,
  },
});

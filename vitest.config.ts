import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defineConfig } from 'vitest/config';

/** The PostgreSQL suites' server: TASKWIRE_TEST_PG_URL, else the local one the project's machines run. */
const PG_URL = process.env.TASKWIRE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Suites that run once per driver (the engine's conformance suite and the race suite) or only on PostgreSQL. */
const DRIVER_SUITES = ['test/engine/conformance/**/*.test.ts', 'test/races/**/*.test.ts'];
const POSTGRES_ONLY = ['test/postgres/**/*.test.ts'];
/**
 * The API's suites that run once per driver: their app's store is opened by
 * test/helpers/app.ts, test/worker/harness.ts or test/security/helpers.ts on the driver
 * TASKWIRE_TEST_DRIVER names. Left out: suites of SQLite itself (statement counts by
 * trace, a closed SQLite connection, processes sharing one file) and suites with no store.
 */
const API_SUITES = [
  'test/graphql/api.test.ts',
  'test/graphql/errors.test.ts',
  'test/graphql/http-conformance.test.ts',
  'test/graphql/jit.test.ts',
  'test/graphql/long-poll.test.ts',
  'test/graphql/readme-tour.test.ts',
  'test/graphql/server.test.ts',
  'test/graphql/subscriptions.test.ts',
  'test/scheduling/dependencies.test.ts',
  'test/scheduling/schedules.test.ts',
  'test/scheduling/timeouts.test.ts',
  'test/worker/auth.test.ts',
  'test/worker/batching.test.ts',
  'test/worker/examples.test.ts',
  'test/worker/lost-answer.test.ts',
  'test/worker/restart.test.ts',
  'test/worker/worker.test.ts',
  'test/security/access.test.ts',
  'test/security/hostile-http.test.ts',
  'test/security/hostile-sse.test.ts',
  'test/security/hostile-ws.test.ts',
];

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (e) {
    return (e as Error).message || String(e);
  } finally {
    await client.end().catch(() => {});
  }
}

const problem = await postgresReachable();
if (problem) {
  const shown = PG_URL.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  if (process.env.TASKWIRE_REQUIRE_POSTGRES === '1') {
    throw new Error(`TASKWIRE_REQUIRE_POSTGRES=1 but PostgreSQL at ${shown} is unreachable: ${problem}`);
  }
  console.log(
    `PostgreSQL suites skipped: no server at ${shown} (${problem}). ` +
      'Point TASKWIRE_TEST_PG_URL at one (postgres://user@host:port/db) to run them.',
  );
}

const postgresProject = {
  extends: true as const,
  test: { name: 'postgres', include: [...DRIVER_SUITES, ...API_SUITES, ...POSTGRES_ONLY], env: { TASKWIRE_TEST_DRIVER: 'postgres' } },
};

export default defineConfig({
  resolve: {
    // One graphql for everyone: vite would give src/ and test/ graphql's ESM build while
    // yoga, graphql-ws and Pothos load its CommonJS build (as Node does), and two copies
    // of GraphQLError break every instanceof check.
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Concurrency and crash tests spawn their own processes; two files at a time keeps
    // them from starving each other on a 2-core machine.
    maxWorkers: 2,
    env: { TASKWIRE_TEST_PG_URL: PG_URL },
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: POSTGRES_ONLY } },
      // Left out, with the line above, when no server answers (and TASKWIRE_REQUIRE_POSTGRES is unset).
      ...(problem ? [] : [postgresProject]),
    ],
  },
});

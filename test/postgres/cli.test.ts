/**
 * The `taskwire` command on PostgreSQL: the same commands on a postgres:// URL, and the
 * SQLite-only ones refused with exit code 2 and the PostgreSQL way named.
 */
import { describe, expect, it } from 'vitest';
import { taskwire, taskwireAll, type Run } from '../cli/harness.js';
import { freshSchemaUrl } from '../helpers/postgres.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/postgres/migrations/index.js';

describe('taskwire on a PostgreSQL URL', () => {
  it('migrates, enqueues, lists, reports status, makes tokens and cleans up', async () => {
    const db = freshSchemaUrl();
    const migrate = await taskwire(['migrate'], { db });
    expect(migrate.stderr).toBe('');
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:5432/test: schema version ${LATEST_SCHEMA_VERSION} \\(up to date\\)`));
    const enq = await taskwire(['enqueue', '--type', 'report', '--payload', '{"n":1}'], { db });
    expect(enq.code, enq.stderr).toBe(0);
    const [list, status, token] = (await taskwireAll([['tasks', 'list'], ['status'], ['token', 'create', '--role', 'admin', '--name', 'ops']], { db })) as [Run, Run, Run];
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/report/);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/QUEUED\s+1/);
    expect(token.code, token.stderr).toBe(0);
    const tokens = await taskwire(['token', 'list'], { db });
    expect(tokens.stdout).toMatch(/ops/);
    const cleanup = await taskwire(['cleanup', '--older-than', '1s'], { db });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/^removed 0 finished tasks/);
  });

  it('vacuum, checkpoint and backup do not apply: exit 2, naming what PostgreSQL does instead', async () => {
    const db = freshSchemaUrl();
    const [vacuum, checkpoint, backup] = (await taskwireAll([['vacuum'], ['checkpoint'], ['backup', '/tmp/never-written.db']], { db })) as [Run, Run, Run];
    expect([vacuum.code, checkpoint.code, backup.code]).toEqual([2, 2, 2]);
    expect(vacuum.stderr).toMatch(/vacuum does not apply to the postgres back end: .*autovacuum/);
    expect(checkpoint.stderr).toMatch(/checkpoint does not apply to the postgres back end: .*CHECKPOINT/);
    expect(backup.stderr).toMatch(/backup does not apply to the postgres back end: .*pg_dump/);
  });

  it('a server that refuses the connection: a clear message and exit code 2, no stack trace', async () => {
    const r = await taskwire(['status', '--db', 'postgres://postgres@127.0.0.1:1/test']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/test: connection refused/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The server at start: the same message and code.
    const serve = await taskwire(['serve'], { db: 'postgres://postgres@127.0.0.1:1/test', env: { PORT: '0' } });
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(/^taskwire: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/test: connection refused/);
    const badUrl = await taskwire(['serve'], { db: 'postgres://postgres@127.0.0.1:5432/test?pool=0', env: { PORT: '0' } });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/pool must be a whole number from 2 to 1000/);
  });
});

/** Opening a PostgreSQL store: migrations once across instances, versions, and clear failures. */
import { describe, expect, it, onTestFinished } from 'vitest';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import { openStore } from '../../src/store/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/postgres/migrations/index.js';
import { expectError } from '../helpers/store.js';
import { PG_URL, adminPool, freshSchemaUrl } from '../helpers/postgres.js';

const open = async (url: string) => {
  const store = await PostgresTaskStore.open({ url, feedPollMs: 0, listen: false });
  onTestFinished(() => store.close());
  return store;
};

describe('opening a PostgreSQL store', () => {
  it('four instances starting together on an empty schema migrate it once', async () => {
    const url = freshSchemaUrl();
    const stores = await Promise.all([open(url), open(url), open(url), open(url)]);
    const schema = new URL(url).searchParams.get('schema')!;
    const { rows } = await adminPool().query(`SELECT version FROM ${schema}.schema_migrations`);
    expect(rows.map((r) => r.version).sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
    for (const s of stores) expect(s.info).toMatchObject({ kind: 'postgres', schemaVersion: LATEST_SCHEMA_VERSION });
    expect(stores[0]!.info.settings).toMatchObject({ schema, pool_size: 10 });
    expect(stores[0]!.info.location).not.toContain('schema=');
  });

  it('refuses a schema migrated by a newer Taskwire, saying so', async () => {
    const url = freshSchemaUrl();
    await (await open(url)).close();
    const schema = new URL(url).searchParams.get('schema')!;
    await adminPool().query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (999, 'future')`);
    const err = await expectError(PostgresTaskStore.open({ url, feedPollMs: 0, listen: false }), 'SCHEMA');
    expect(err.message).toMatch(/version 999, newer than this Taskwire knows/);
  });

  it('a refused connection, an unknown database and bad settings fail with a message that says which', async () => {
    const refused = await expectError(openStore({ database: 'postgres://postgres@127.0.0.1:1/test' }), 'UNAVAILABLE');
    expect(refused.message).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/test: connection refused/);
    const u = new URL(PG_URL);
    u.pathname = '/no_such_database_here';
    const missing = await expectError(openStore({ database: u.toString() }), 'UNAVAILABLE');
    expect(missing.message).toMatch(/no_such_database_here.*does not exist/);
    await expectError(openStore({ database: `${PG_URL}?pool=1` }), 'VALIDATION');
    await expectError(openStore({ database: `${PG_URL}?schema=Bad-Name` }), 'VALIDATION');
    await expectError(openStore({ database: `${PG_URL}?statement_timeout=soon` }), 'VALIDATION');
  });

  it('hides the password wherever the location is shown', async () => {
    const u = new URL(freshSchemaUrl());
    u.password = 'sekret';
    const store = await open(u.toString());
    expect(store.info.location).not.toContain('sekret');
    expect(store.info.location).toContain('***');
  });
});

/**
 * PostgreSQL migrations: numbered, applied in order, each in the transaction that records
 * it in schema_migrations. N instances starting together migrate once: the first takes a
 * transaction-level advisory lock on the schema's name, the others wait for it and then
 * find nothing left to do.
 */
import type pg from 'pg';
import { TaskwireError } from '../../errors.js';
import { quoteIdent } from '../connection.js';
import * as m001 from './001_initial.js';
import * as m002 from './002_event_batches.js';
import * as m003 from './003_queue_pauses.js';
import * as m004 from './004_metadata.js';

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: m001.sql },
  { version: 2, name: 'event_batches', sql: m002.sql },
  { version: 3, name: 'queue_pauses', sql: m003.sql },
  { version: 4, name: 'metadata', sql: m004.sql },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the schema up to date; returns its version. Refuses a schema newer than this code. */
export async function migrate(client: pg.ClientBase, schema: string): Promise<number> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('taskwire-migrate:' || $1, 0))`, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`SET LOCAL search_path TO ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new TaskwireError(
        'SCHEMA',
        `the database schema "${schema}" is at version ${current}, newer than this Taskwire knows (${LATEST_SCHEMA_VERSION}); upgrade Taskwire`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return Math.max(current, LATEST_SCHEMA_VERSION);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

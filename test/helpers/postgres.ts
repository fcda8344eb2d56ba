/**
 * The PostgreSQL side of the test helpers: a server to test against, a fresh schema per
 * database a test asks for (dropped when the test finishes), and the PostgreSQL probe.
 *
 * The server is TASKWIRE_TEST_PG_URL, by default the local one the project's machines run
 * (postgres://postgres@127.0.0.1:5432/test). Only PostgreSQL suites and the postgres
 * driver of drivers.ts import this.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import type { PostgresTaskStore } from '../../src/store/postgres/store.js';
import type { Probe } from './store.js';

export const PG_URL = process.env.TASKWIRE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

let admin: pg.Pool | null = null;

/** One small pool per test process for creating and dropping schemas. */
export function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: PG_URL, max: 2 });
  return admin;
}

/**
 * A URL naming a new, empty schema (the driver creates and migrates it), and how to drop
 * it: for a database that outlives one test (made in beforeAll), dropped by the caller.
 */
export function newSchema(extra: Record<string, string> = {}): { url: string; schema: string; drop: () => Promise<void> } {
  const schema = `tw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  return {
    url: u.toString(),
    schema,
    drop: async () => {
      await adminPool().query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** A URL naming a new, empty schema (the driver creates and migrates it); dropped when the test finishes. */
export function freshSchemaUrl(extra: Record<string, string> = {}): string {
  const { url, drop } = newSchema(extra);
  onTestFinished(drop);
  return url;
}

export function postgresProbe(store: PostgresTaskStore): Probe {
  const db = store.pg.db;
  const value = async (sql: string, params: unknown[]) => ((await db.query(sql, params)).rows[0]?.v ?? null) as never;
  return {
    leaseToken: (id) => value('SELECT lease_token AS v FROM tasks WHERE id = $1', [id]),
    timeoutAt: (id) => value('SELECT timeout_at AS v FROM tasks WHERE id = $1', [id]),
    taskRecord: async (id) => (await db.query('SELECT * FROM tasks WHERE id = $1', [id])).rows[0] ?? null,
    logCount: (taskId) => value('SELECT count(*) AS v FROM task_logs WHERE task_id = $1', [taskId]),
    // Foreign keys hold these; the probe looks anyway, as SQLite's foreign_key_check does.
    danglingReferences: async () =>
      (
        await db.query(
          `SELECT 'task_logs' AS t, l.id FROM task_logs l LEFT JOIN tasks t ON t.id = l.task_id WHERE t.id IS NULL
           UNION ALL
           SELECT 'task_dependencies', d.task_id FROM task_dependencies d
             LEFT JOIN tasks a ON a.id = d.task_id LEFT JOIN tasks b ON b.id = d.depends_on_id
             WHERE a.id IS NULL OR b.id IS NULL`,
        )
      ).rows,
  };
}

/**
 * The PostgreSQL driver's maintenance jobs. VACUUM, WAL checkpoints and a file backup are
 * the server's business here (autovacuum, the checkpointer, pg_dump), so those members are
 * absent and the CLI says so; planner statistics and sizes come from PostgreSQL's views.
 */
import type { Connections } from './connection.js';
import type { Maintenance } from '../types.js';

/** The outbox's table is event_batches (migration 002); sizes still name it task_events. */
const TABLES = ['tasks', 'event_batches', 'task_logs', 'task_dependencies', 'workers', 'schedules'] as const;

export function postgresMaintenance(db: Connections, run: <T>(fn: () => Promise<T>) => Promise<T>): Maintenance {
  return {
    /** Bytes of each table with its indexes and TOAST, and their sum as `db`. */
    sizes: () =>
      run(async () => {
        const { rows } = await db.query<{ name: string; bytes: number }>(
          `SELECT CASE c.relname WHEN 'event_batches' THEN 'task_events' ELSE c.relname::text END AS name, pg_total_relation_size(c.oid)::bigint AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])`,
          [TABLES],
        );
        const sizes: Record<string, number> = { db: 0 };
        for (const r of rows) {
          sizes[r.name] = r.bytes;
          sizes.db! += r.bytes;
        }
        return sizes;
      }),

    /**
     * What the schema promises beyond its constraints: the outbox counter is at or past
     * every numbered row. (Foreign keys and checks PostgreSQL enforces itself.)
     */
    integrityCheck: () =>
      run(async () => {
        const { rows } = await db.query<{ ahead: number }>(
          `SELECT count(*) AS ahead FROM event_batches WHERE last_pos > (SELECT last_pos FROM event_sequence WHERE id = 1)`,
        );
        return rows[0]!.ahead === 0 ? ['ok'] : [`${rows[0]!.ahead} outbox batches are numbered past event_sequence.last_pos`];
      }),

    optimize: () =>
      run(async () => {
        await db.query(`ANALYZE ${TABLES.join(', ')}`);
      }),
  };
}

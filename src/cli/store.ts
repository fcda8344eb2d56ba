/**
 * How a command reaches the database: the one named by --db, else TASKWIRE_DB, else the
 * default, opened for one short command (no background work, nothing followed) and closed
 * when the command is done. A running server on the same database keeps working: the
 * command writes through the engine, so its outbox rows reach the server's subscribers.
 */
import { loadSynchronous } from '../config.js';
import { DEFAULTS, openStore, type Maintenance, type TaskStore } from '../store/index.js';
import { NotApplicable, type Option, type Values } from './command.js';

export const dbOption: Record<string, Option> = {
  db: { type: 'string', arg: 'file|url', description: `database file or postgres:// URL (default: $TASKWIRE_DB, else ${DEFAULTS.dbPath})` },
};

export function dbPath(values: Values): string {
  return (values.db as string | undefined) || process.env.TASKWIRE_DB || DEFAULTS.dbPath;
}

export async function withStore<T>(values: Values, fn: (store: TaskStore) => Promise<T>): Promise<T> {
  const store = await openStore({ database: dbPath(values), role: 'command', synchronous: loadSynchronous() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

type Job = Exclude<keyof Maintenance, 'sizes' | 'integrityCheck'>;

/** What to do instead, where a back end has no such job. */
const INSTEAD: Partial<Record<TaskStore['info']['kind'], Partial<Record<Job, string>>>> = {
  postgres: {
    backup: 'back up with pg_dump (e.g. pg_dump --schema=<schema> <database> > taskwire.sql), or your provider\'s snapshots',
    vacuum: "PostgreSQL's autovacuum reclaims space (Taskwire's tables are tuned for it); run VACUUM yourself if you must",
    checkpoint: 'PostgreSQL checkpoints its own write-ahead log (a superuser can force one with CHECKPOINT)',
    optimize: 'PostgreSQL keeps planner statistics with autovacuum (or run ANALYZE)',
  },
};

/** A maintenance job of the store's back end; where it has none, NotApplicable (exit 2) naming the way instead. */
export function maintenanceJob<K extends Job>(store: TaskStore, job: K): NonNullable<Maintenance[K]> {
  const fn = store.maintenance[job];
  if (!fn) {
    const instead = INSTEAD[store.info.kind]?.[job];
    throw new NotApplicable(`${job} does not apply to the ${store.info.kind} back end${instead ? `: ${instead}` : ''}`);
  }
  return fn.bind(store.maintenance) as NonNullable<Maintenance[K]>;
}

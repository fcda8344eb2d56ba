/**
 * How a command reaches the database: the one named by --db, else TASKWIRE_DB, else the
 * default, opened for one short command (no background work, nothing followed) and closed
 * when the command is done. A running server on the same database keeps working: the
 * command writes through the engine, so its outbox rows reach the server's subscribers.
 */
import { loadSynchronous } from '../config.js';
import { DEFAULTS, openStore, type Maintenance, type TaskStore } from '../store/index.js';
import { Failure, type Option, type Values } from './command.js';

export const dbOption: Record<string, Option> = {
  db: { type: 'string', arg: 'file', description: `database file (default: $TASKWIRE_DB, else ${DEFAULTS.dbPath})` },
};

export function dbPath(values: Values): string {
  return (values.db as string | undefined) || process.env.TASKWIRE_DB || DEFAULTS.dbPath;
}

export async function withStore<T>(values: Values, fn: (store: TaskStore) => Promise<T>): Promise<T> {
  const store = openStore({ database: dbPath(values), role: 'command', synchronous: loadSynchronous() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

type Job = Exclude<keyof Maintenance, 'sizes' | 'integrityCheck'>;

/** A maintenance job of the store's back end, or a Failure (exit 1) when it has none. */
export function maintenanceJob<K extends Job>(store: TaskStore, job: K): NonNullable<Maintenance[K]> {
  const fn = store.maintenance[job];
  if (!fn) throw new Failure(`${job} does not apply to the ${store.info.kind} back end`);
  return fn.bind(store.maintenance) as NonNullable<Maintenance[K]>;
}

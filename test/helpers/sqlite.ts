/**
 * The SQLite side of the test helpers: a SqliteTaskStore with any of its constructor
 * options (SQLite-only tests under test/store/sqlite/ use it directly), the SQLite probe,
 * and raw rows. Only SQLite-only tests and the sqlite driver of drivers.ts import this.
 */
import { SqliteTaskStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';
import { Clock, mulberry32, track, type Probe, type TestStore } from './store.js';

export type SqliteTestOptions = Partial<SqliteStoreOptions> & { seed?: number; clock?: Clock };

/** A fresh SqliteTaskStore (':memory:' unless a path is given), closed when the test finishes. */
export function makeSqliteStore(options: SqliteTestOptions = {}): TestStore<SqliteTaskStore> {
  const { seed, clock = new Clock(), ...rest } = options;
  const store = new SqliteTaskStore({
    path: ':memory:',
    now: clock.now,
    random: mulberry32(seed ?? 12345),
    tailIntervalMs: 0,
    ...rest,
  });
  return track(store, clock, sqliteProbe(store));
}

/** Raw row of a task, straight from SQLite (includes columns the Task type leaves out). */
export function rawTask(store: SqliteTaskStore, id: number): Record<string, unknown> {
  return store.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Record<string, unknown>;
}

export function sqliteProbe(store: SqliteTaskStore): Probe {
  const column = (name: 'lease_token' | 'timeout_at', id: number) =>
    ((store.db.prepare(`SELECT ${name} AS v FROM tasks WHERE id = ?`).get(id) as { v: unknown } | undefined)?.v ?? null) as never;
  return {
    leaseToken: async (id) => column('lease_token', id),
    timeoutAt: async (id) => column('timeout_at', id),
    taskRecord: async (id) => rawTask(store, id) ?? null,
    logCount: async (taskId) => store.db.prepare('SELECT count(*) FROM task_logs WHERE task_id = ?').pluck().get(taskId) as number,
    danglingReferences: async () => store.db.pragma('foreign_key_check') as unknown[],
  };
}

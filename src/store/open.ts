/**
 * openStore: the one door from configuration to a back end. The server, the CLI and the
 * tests name a database and get a TaskStore; only this file knows which driver serves it.
 */
import { TaskwireError } from './errors.js';
import { SqliteTaskStore } from './sqlite/store.js';
import type { TaskStore } from './types.js';

export interface OpenStoreOptions {
  /**
   * Where the data lives: a SQLite file path (also as `sqlite:<path>`), or ':memory:'.
   * A `postgres://` URL is recognised and refused until that driver exists.
   */
  database: string;
  /**
   * What the store is opened for. 'server': a long-running process (checkpoints run on
   * a worker thread, and rows other processes commit are followed and published).
   * 'command': one short command beside a possibly running server (no background work).
   * Default 'server'.
   */
  role?: 'server' | 'command';
  /** SQLite: FULL survives power loss; NORMAL (default) survives process crashes. */
  synchronous?: 'normal' | 'full';
  /** Injected clock (ms since epoch). */
  now?: () => number;
  /** Injected randomness in [0, 1): backoff jitter and WEIGHTED_RANDOM. */
  random?: () => number;
  defaultLeaseSeconds?: number;
  staleWorkerAfterMs?: number;
  maxPayloadBytes?: number;
  /** Told about every coded storage failure (BUSY, STORAGE): metrics count them. */
  onStorageError?: (error: TaskwireError) => void;
  /** Told when background work of the driver fails (the server logs it; it is retried). */
  onBackgroundError?: (message: string) => void;
}

/** How often a server checkpoints the WAL from its worker thread (ms). */
const CHECKPOINT_EVERY_MS = 250;

export function openStore(options: OpenStoreOptions): TaskStore {
  const { database, role = 'server', onBackgroundError, ...engine } = options;
  if (/^postgres(ql)?:\/\//i.test(database)) {
    throw new TaskwireError('VALIDATION', 'PostgreSQL is not supported by this Taskwire yet; give a SQLite file path', { field: 'database' });
  }
  const path = database.startsWith('sqlite:') ? database.slice('sqlite:'.length) : database;
  return new SqliteTaskStore({
    ...engine,
    path,
    // Checkpoints off the event loop in a server: an automatic one stalls the commit that
    // triggers it. A short command leaves them to SQLite.
    checkpointThreadMs: role === 'server' ? CHECKPOINT_EVERY_MS : undefined,
    onCheckpointError: onBackgroundError,
    // A command exits soon; the server follows other writers' commits.
    tailIntervalMs: role === 'server' ? undefined : 0,
  });
}

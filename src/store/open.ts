/**
 * openStore: the one door from configuration to a back end. The server, the CLI and the
 * tests name a database and get a TaskStore; only this file knows which driver serves it.
 */
import type { TaskwireError } from './errors.js';
import { isPostgresUrl } from './postgres/connection.js';
import { PostgresTaskStore } from './postgres/store.js';
import { SqliteTaskStore } from './sqlite/store.js';
import type { TaskStore } from './types.js';

export interface OpenStoreOptions {
  /**
   * Where the data lives: a SQLite file path (also as `sqlite:<path>`), or ':memory:';
   * or a `postgres://` URL, with Taskwire's settings in its query string
   * (`schema`, `pool`, `statement_timeout`: store/postgres/connection.ts).
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

/** Whether a location names a database server (a URL) rather than a SQLite file. */
export const isDatabaseUrl = (location: string): boolean => isPostgresUrl(location);

/**
 * Opens the store the location names. A PostgreSQL store connects and migrates first; a
 * refused connection, a bad login or a bad URL rejects with a coded error whose message
 * says what to fix.
 */
export async function openStore(options: OpenStoreOptions): Promise<TaskStore> {
  const { database, role = 'server', onBackgroundError, synchronous: _synchronous, ...engine } = options;
  if (isPostgresUrl(database)) {
    return PostgresTaskStore.open({
      ...engine,
      url: database,
      onBackgroundError,
      // A command neither follows other instances nor wakes them by LISTEN.
      feedPollMs: role === 'server' ? undefined : 0,
      listen: role === 'server',
    });
  }
  const path = database.startsWith('sqlite:') ? database.slice('sqlite:'.length) : database;
  return new SqliteTaskStore({
    ...engine,
    synchronous: options.synchronous,
    path,
    // Checkpoints off the event loop in a server: an automatic one stalls the commit that
    // triggers it. A short command leaves them to SQLite.
    checkpointThreadMs: role === 'server' ? CHECKPOINT_EVERY_MS : undefined,
    onCheckpointError: onBackgroundError,
    // A command exits soon; the server follows other writers' commits.
    tailIntervalMs: role === 'server' ? undefined : 0,
  });
}

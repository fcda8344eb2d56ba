/**
 * The engine on the SQLite driver: what openStore() returns for a file path. SQLite-only
 * tests and benchmarks construct it directly, to reach the connection (`db`).
 */
import { Engine, type EngineOptions } from '../engine/engine.js';
import type { CheckpointThread } from './checkpointer.js';
import type { SqliteDatabase } from './database.js';
import { SqliteDriver, type SqliteDriverOptions } from './driver.js';

export type SqliteStoreOptions = SqliteDriverOptions & EngineOptions;

export class SqliteTaskStore extends Engine {
  /** The connection: for SQLite-only tests, benchmarks and probes, never for the engine. */
  readonly db: SqliteDatabase;
  readonly checkpoints: CheckpointThread | null;

  constructor(options: SqliteStoreOptions) {
    const driver = new SqliteDriver(options);
    super(driver, options);
    this.db = driver.db;
    this.checkpoints = driver.checkpoints;
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteTaskStore {
  return new SqliteTaskStore(options);
}

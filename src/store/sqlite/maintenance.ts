/**
 * The SQLite driver's maintenance jobs: the ones only this dialect has (VACUUM, WAL
 * checkpoints, the online backup API, PRAGMA optimize and integrity_check), behind the
 * neutral Maintenance interface that upkeep, metrics and the CLI use.
 */
import Database from 'better-sqlite3';
import { rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TaskwireError, validation } from '../errors.js';
import type { BackupResult, CheckpointResult, Maintenance } from '../types.js';
import type { SqliteDatabase } from './database.js';
import { mapSqliteError } from './errors.js';

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * `run` wraps each job the way the driver wraps reads: it refuses a closed store and
 * maps SQLite's errors to coded ones; `briefly` does the same with a short busy timeout,
 * for the jobs the server's upkeep runs (a lock held elsewhere gives BUSY at once
 * instead of stalling the event loop).
 */
export function sqliteMaintenance(
  db: SqliteDatabase,
  path: string,
  run: <T>(fn: () => T) => T,
  briefly: <T>(fn: () => T) => T,
): Maintenance {
  const inMemory = path === ':memory:';
  const walSize = () => (inMemory ? 0 : fileSize(`${path}-wal`));
  const databaseBytes = () => (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  return {
    async sizes(): Promise<Record<string, number>> {
      return inMemory ? {} : { db: fileSize(path), wal: walSize() };
    },
    async integrityCheck() {
      return run(() => (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check));
    },
    async optimize() {
      briefly(() => db.pragma('optimize'));
    },
    async checkpoint(options = {}): Promise<CheckpointResult | null> {
      if (inMemory) return null;
      const logBytesBefore = walSize();
      if (options.ifLargerThan !== undefined && logBytesBefore <= options.ifLargerThan) return null;
      // TRUNCATE: after copying the log back it is cut to zero bytes, so the file stops
      // taking disk space; busy = 1 when a reader or writer held it back.
      // Upkeep's call (with a threshold) waits for locks only briefly, the CLI's as long as writes do.
      const wait = options.ifLargerThan !== undefined ? briefly : run;
      const [row] = wait(() => db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[]);
      return { busy: (row?.busy ?? 0) !== 0, logBytesBefore, logBytesAfter: walSize() };
    },
    async vacuum() {
      const bytesBefore = run(databaseBytes);
      run(() => db.exec('VACUUM'));
      return { bytesBefore, bytesAfter: run(databaseBytes) };
    },
    async backup(destination: string): Promise<BackupResult> {
      const dest = resolve(destination);
      if (dest === path) throw validation('the backup file must not be the database itself', 'destination');
      // A -wal or -journal left beside the file would be read into the fresh copy.
      for (const f of [`${dest}-wal`, `${dest}-shm`, `${dest}-journal`]) rmSync(f, { force: true });
      run(() => undefined); // refuses a closed store before the copy starts
      try {
        // The online backup API copies in steps between which writers go on.
        await db.backup(dest, { progress: () => 256 });
        // The copy inherits WAL mode; a rollback journal makes it one self-contained file.
        const copy = new Database(dest, { fileMustExist: true });
        try {
          copy.pragma('journal_mode = DELETE');
          const integrity = (copy.pragma('integrity_check') as { integrity_check: string }[]).map((x) => x.integrity_check);
          const tasks = (copy.prepare('SELECT count(*) AS c FROM tasks').get() as { c: number }).c;
          const schemaVersion = (copy.prepare('SELECT max(version) AS v FROM taskwire_migrations').get() as { v: number }).v;
          return { bytes: fileSize(dest), integrity, tasks, schemaVersion };
        } finally {
          copy.close();
        }
      } catch (e) {
        const mapped = mapSqliteError(e);
        if (mapped instanceof TaskwireError) throw mapped;
        // better-sqlite3 checks the destination itself (e.g. a missing folder); its message is ours to show.
        throw Object.assign(new TaskwireError('STORAGE', `backup to ${dest} failed: ${(e as Error).message}`), { cause: e });
      }
    },
  };
}

/**
 * SQLite-only: SQLite's error codes (SQLITE_BUSY, constraint failures) become coded
 * TaskwireErrors that carry the raw error as their cause and none of its message.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TaskwireError, isTaskwireError } from '../../../src/store/index.js';
import { mapSqliteError } from '../../../src/store/sqlite/errors.js';
import { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { makeSqliteStore } from '../../helpers/sqlite.js';
import { expectError, tempDir } from '../../helpers/store.js';

/** A second connection that holds the write lock until released. */
function holdWriteLock(path: string) {
  const other = new Database(path);
  other.pragma('busy_timeout = 0');
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      other.exec('ROLLBACK');
      other.close();
    },
  };
}

describe('mapSqliteError', () => {
  it('turns SQLITE_BUSY from a locked file into a BUSY TaskwireError with no raw SQLite message', async () => {
    const path = join(tempDir(), 'busy.db');
    const { store } = makeSqliteStore({ path, busyTimeoutMs: 50 });
    await store.enqueue({ type: 'before', payload: {} });
    const lock = holdWriteLock(path);
    try {
      const err = await expectError(store.enqueue({ type: 'x', payload: {} }), 'BUSY');
      const cause = err.cause as Error & { code?: string };
      expect(cause).toBeInstanceOf(Database.SqliteError);
      expect(cause.code).toMatch(/^SQLITE_BUSY/);
      expect(err.message).not.toBe(cause.message);
      expect(err).not.toBeInstanceOf(Database.SqliteError);
      // Every kind of write maps the same way.
      await expectError(store.claim({ workerId: 'w' }), 'BUSY');
      await expectError(store.sweep(), 'BUSY');
    } finally {
      lock.release();
    }
    // Once the lock is gone, the store works again and nothing half-done was left.
    expect((await store.enqueue({ type: 'after', payload: {} })).task.id).toBe(2);
    expect(await store.countTasks()).toBe(2);
  });

  it('maps constraint and other SQLite failures to stable codes with the raw error as cause', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE, n INTEGER CHECK (n > 0))');
      db.prepare('INSERT INTO t (v, n) VALUES (?, ?)').run('a', 1);
      const capture = (fn: () => unknown) => {
        try {
          fn();
        } catch (e) {
          return e;
        }
        throw new Error('expected a failure');
      };
      const cases: [unknown, string][] = [
        [capture(() => db.prepare('INSERT INTO t (v, n) VALUES (?, ?)').run('a', 2)), 'CONFLICT'],
        [capture(() => db.prepare('INSERT INTO t (id, v, n) VALUES (1, ?, ?)').run('b', 2)), 'CONFLICT'],
        [capture(() => db.prepare('INSERT INTO t (v, n) VALUES (?, ?)').run('c', 0)), 'VALIDATION'],
        [capture(() => db.exec('SELECT * FROM no_such_table')), 'STORAGE'],
      ];
      for (const [raw, code] of cases) {
        expect(raw).toBeInstanceOf(Database.SqliteError);
        const mapped = mapSqliteError(raw);
        expect(isTaskwireError(mapped)).toBe(true);
        expect((mapped as TaskwireError).code).toBe(code);
        expect((mapped as TaskwireError).message).not.toContain((raw as Error).message);
        expect((mapped as Error).cause).toBe(raw);
      }
    } finally {
      db.close();
    }
  });

  it('passes a TaskwireError through unchanged', () => {
    const e = new TaskwireError('NOT_FOUND', 'x');
    expect(mapSqliteError(e)).toBe(e);
  });

  it('a store refuses to open with a BUSY error, not a raw SQLite message, while another writer holds the lock', async () => {
    const path = join(tempDir(), 'busy-open.db');
    await new SqliteTaskStore({ path, tailIntervalMs: 0 }).close();
    const lock = holdWriteLock(path);
    try {
      const err = await expectError(() => new SqliteTaskStore({ path, tailIntervalMs: 0, busyTimeoutMs: 50 }), 'BUSY');
      expect(err.message).not.toMatch(/database is locked/);
    } finally {
      lock.release();
    }
    // And it opens once the lock is gone.
    await new SqliteTaskStore({ path, tailIntervalMs: 0 }).close();
  });
});

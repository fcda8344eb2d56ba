import Database from 'better-sqlite3';
import { TaskwireError } from '../errors.js';

/** Turns a raw SQLite failure into a coded error; the raw message stays in `cause` for logs. */
export function mapSqliteError(e: unknown): unknown {
  if (e instanceof TaskwireError) return e;
  if (!(e instanceof Database.SqliteError)) return e;
  const code = e.code;
  let mapped: TaskwireError;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    mapped = new TaskwireError('BUSY', 'another writer holds the database lock; try again shortly');
  } else if (code === 'SQLITE_FULL') {
    mapped = new TaskwireError('STORAGE', 'the disk is full: the change was not saved; reads still work');
  } else if (code.startsWith('SQLITE_READONLY')) {
    mapped = new TaskwireError('STORAGE', 'the database file is read-only: the change was not saved; reads still work');
  } else if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    mapped = new TaskwireError('CONFLICT', 'the change conflicts with an existing record');
  } else if (code.startsWith('SQLITE_CONSTRAINT')) {
    mapped = new TaskwireError('VALIDATION', 'a value is outside what the store accepts');
  } else {
    mapped = new TaskwireError('STORAGE', 'the storage layer failed; the change was not saved');
  }
  (mapped as Error).cause = e;
  return mapped;
}

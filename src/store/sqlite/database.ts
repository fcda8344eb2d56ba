import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TaskwireError } from '../errors.js';
import { mapSqliteError } from './errors.js';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations/index.js';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** A file path, or ':memory:'. */
  path: string;
  /** FULL survives power loss; NORMAL (the default) survives process crashes in WAL mode. */
  synchronous?: 'normal' | 'full';
  busyTimeoutMs?: number;
  /** Run PRAGMA quick_check on an existing file before using it (default true). */
  quickCheck?: boolean;
  /** Called with every SQL statement run (tests count statements with it). */
  trace?: (sql: string) => void;
}

export interface OpenedDatabase {
  db: SqliteDatabase;
  path: string;
  schemaVersion: number;
  pragmas: Record<string, string | number>;
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** Refuse a file that exists but is not a SQLite database, before SQLite touches it. */
function assertSqliteFile(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  if (size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1') !== SQLITE_HEADER) {
    throw new TaskwireError('SCHEMA', `${path} is not a SQLite database; refusing to open it (the file is left untouched)`);
  }
}

function applyPragmas(db: SqliteDatabase, options: OpenDatabaseOptions, isMemory: boolean): Record<string, string | number> {
  // page_size only takes effect before the first table exists, so it comes first.
  db.pragma('page_size = 4096');
  if (!isMemory) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma('wal_autocheckpoint = 1000');
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 134217728');
  db.pragma('cache_size = -20000');
  const read = (name: string) => db.pragma(name, { simple: true }) as string | number;
  return {
    journal_mode: read('journal_mode'),
    synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[read('synchronous') as number] ?? read('synchronous'),
    busy_timeout: read('busy_timeout'),
    wal_autocheckpoint: read('wal_autocheckpoint'),
    foreign_keys: read('foreign_keys'),
    temp_store: (['DEFAULT', 'FILE', 'MEMORY'] as const)[read('temp_store') as number] ?? read('temp_store'),
    mmap_size: read('mmap_size'),
    page_size: read('page_size'),
    cache_size: read('cache_size'),
  };
}

function currentVersion(db: SqliteDatabase): number {
  const hasTable = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'taskwire_migrations'`)
    .get();
  if (!hasTable) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM taskwire_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies every pending migration in one IMMEDIATE transaction; returns the version. */
export function migrate(db: SqliteDatabase): number {
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS taskwire_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const from = currentVersion(db);
    if (from > LATEST_SCHEMA_VERSION) {
      throw new TaskwireError(
        'SCHEMA',
        `the database is at schema version ${from}, written by a newer Taskwire (this one knows up to ${LATEST_SCHEMA_VERSION}); upgrade Taskwire to open it`,
      );
    }
    const insert = db.prepare('INSERT INTO taskwire_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, Date.now());
    }
    return currentVersion(db);
  });
  return run.immediate();
}

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const isMemory = options.path === ':memory:' || options.path === '';
  const path = isMemory ? ':memory:' : resolve(options.path);
  if (!isMemory) {
    mkdirSync(dirname(path), { recursive: true });
    assertSqliteFile(path);
  }
  const existed = !isMemory && existsSync(path) && statSync(path).size > 0;
  let db: SqliteDatabase;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000, verbose: options.trace as never });
  } catch (e) {
    const mapped = mapSqliteError(e);
    throw mapped instanceof TaskwireError && mapped.code !== 'STORAGE'
      ? mapped
      : Object.assign(new TaskwireError('SCHEMA', `cannot open ${path}: check that the path is a writable file`), { cause: e });
  }
  try {
    if (existed && options.quickCheck !== false) {
      const result = db.pragma('quick_check', { simple: true });
      if (result !== 'ok') {
        throw new TaskwireError('SCHEMA', `${path} failed PRAGMA quick_check (${String(result)}); restore it from a backup`);
      }
    }
    const pragmas = applyPragmas(db, options, isMemory);
    const schemaVersion = migrate(db);
    return { db, path, schemaVersion, pragmas };
  } catch (e) {
    db.close();
    if (e instanceof TaskwireError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
      throw Object.assign(
        new TaskwireError('SCHEMA', `${path} is not a usable SQLite database (damaged or not SQLite); the file is left untouched`),
        { cause: e },
      );
    }
    const mapped = mapSqliteError(e);
    if (mapped instanceof TaskwireError && mapped.code !== 'STORAGE') throw mapped;
    throw Object.assign(new TaskwireError('SCHEMA', `cannot prepare ${path}: the database could not be migrated`), { cause: e });
  }
}

/**
 * SQLite-only: opening a database file (the PRAGMAs the driver applies and reports in
 * info.settings, migrations, the schema) and refusing files it must not use.
 */
import { readFileSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../../src/store/sqlite/migrations/index.js';
import { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { makeSqliteStore, rawTask } from '../../helpers/sqlite.js';
import { expectError, tempDir } from '../../helpers/store.js';

function open(path: string, extra: Partial<ConstructorParameters<typeof SqliteTaskStore>[0]> = {}) {
  return new SqliteTaskStore({ path, tailIntervalMs: 0, ...extra });
}

describe('opening a database file', () => {
  it('applies the PRAGMAs and exposes the applied values', async () => {
    const path = join(tempDir(), 'q.db');
    const store = open(path);
    try {
      expect(store.info.settings).toEqual({
        journal_mode: 'wal',
        synchronous: 'NORMAL',
        busy_timeout: 5000,
        wal_autocheckpoint: 1000,
        foreign_keys: 1,
        temp_store: 'MEMORY',
        mmap_size: 134217728,
        page_size: 4096,
        cache_size: -20000,
      });
      // The exposed values are what the connection really runs with.
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(store.info).toMatchObject({ kind: 'sqlite', location: path, schemaVersion: LATEST_SCHEMA_VERSION, latestSchemaVersion: LATEST_SCHEMA_VERSION });
    } finally {
      await store.close();
    }
    // WAL is persistent: a plain connection sees it in the file.
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('page_size', { simple: true })).toBe(4096);
    } finally {
      raw.close();
    }
  });

  it("selects synchronous FULL with synchronous: 'full'", async () => {
    const store = open(join(tempDir(), 'full.db'), { synchronous: 'full' });
    try {
      expect(store.info.settings.synchronous).toBe('FULL');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('uses the busy timeout it is given', async () => {
    const store = open(join(tempDir(), 'bt.db'), { busyTimeoutMs: 250 });
    try {
      expect(store.info.settings.busy_timeout).toBe(250);
    } finally {
      await store.close();
    }
  });

  it('creates the folder of a path that does not exist yet', async () => {
    const path = join(tempDir(), 'a', 'b', 'q.db');
    const store = open(path);
    try {
      expect(statSync(path).isFile()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('records the migrations in taskwire_migrations and reports the schema version', async () => {
    const store = open(join(tempDir(), 'm.db'));
    try {
      expect(store.info.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      const rows = store.db.prepare('SELECT version, name FROM taskwire_migrations ORDER BY version').all() as {
        version: number;
        name: string;
      }[];
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
      expect(rows[0]!.name).toBe('initial');
      const tables = (
        store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]
      ).map((r) => r.name);
      for (const t of ['tasks', 'workers', 'task_logs', 'task_dependencies', 'task_events', 'concurrency_limits']) {
        expect(tables).toContain(t);
      }
    } finally {
      await store.close();
    }
  });

  it('reopens an existing database without re-running migrations or losing rows', async () => {
    const path = join(tempDir(), 're.db');
    const first = open(path);
    const { task } = await first.enqueue({ type: 'keep', payload: { n: 1 } });
    await first.close();

    for (let i = 0; i < 2; i++) {
      const again = open(path);
      try {
        expect(again.info.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
        const { c } = again.db.prepare('SELECT count(*) AS c FROM taskwire_migrations').get() as { c: number };
        expect(c).toBe(LATEST_SCHEMA_VERSION);
        const found = await again.getTask(task.id);
        expect(found?.type).toBe('keep');
        expect(found?.payload).toEqual({ n: 1 });
      } finally {
        await again.close();
      }
    }
  });

  it('uses no journal file on :memory: and still migrates', async () => {
    const store = new SqliteTaskStore({ path: ':memory:' });
    try {
      expect(store.info).toMatchObject({ kind: 'sqlite', location: ':memory:', latestSchemaVersion: LATEST_SCHEMA_VERSION });
      expect(store.info.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      expect(store.info.settings.journal_mode).toBe('memory');
      expect(store.info.settings.foreign_keys).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('the schema', () => {
  it('keeps region and format in indexed generated columns, derived from compatibility.region and payload.format', async () => {
    const { store } = makeSqliteStore();
    const { task } = await store.enqueue({
      type: 'transcode',
      payload: { format: 'mp4', src: 's3://x' },
      compatibility: { region: 'eu-west', gpu: true },
    });
    const row = rawTask(store, task.id);
    expect(row.region).toBe('eu-west');
    expect(row.format).toBe('mp4');
    // The generated columns are indexed.
    const indexes = (store.db.prepare(`SELECT name FROM pragma_index_list('tasks')`).all() as { name: string }[]).map(
      (r) => r.name,
    );
    const indexedColumns = indexes.flatMap((name) =>
      (store.db.prepare(`SELECT name FROM pragma_index_info(?)`).all(name) as { name: string }[]).map((c) => `${name}:${c.name}`),
    );
    expect(indexedColumns.some((c) => c.endsWith(':region'))).toBe(true);
    expect(indexedColumns.some((c) => c.endsWith(':format'))).toBe(true);
  });
});

describe('refusing files it must not use', () => {
  it('refuses a file that is not a SQLite database and leaves its bytes unchanged', async () => {
    const path = join(tempDir(), 'notes.db');
    const text = 'These are my notes. They are not a database, and nobody may overwrite them.\n'.repeat(20);
    writeFileSync(path, text);
    const before = readFileSync(path);
    const err = await expectError(() => open(path), 'SCHEMA');
    expect(err.message).toMatch(/not a SQLite database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a tiny file that only starts like SQLite', async () => {
    const path = join(tempDir(), 'tiny.db');
    writeFileSync(path, 'SQLite format 3\0abc');
    const before = readFileSync(path);
    await expectError(() => open(path), 'SCHEMA');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a database written by a newer schema version, with a message saying so', async () => {
    const path = join(tempDir(), 'newer.db');
    await open(path).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO taskwire_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from the future');
    raw.close();

    const err = await expectError(() => open(path), 'SCHEMA');
    expect(err.message).toMatch(/newer/);
    expect(err.message).toContain('999');

    // Nothing was changed by the refused open.
    const check = new Database(path, { readonly: true });
    try {
      const versions = check.prepare('SELECT version FROM taskwire_migrations ORDER BY version').all() as { version: number }[];
      expect(versions.map((v) => v.version)).toEqual([...Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1), 999]);
    } finally {
      check.close();
    }
  });

  it('refuses a corrupt database file with SCHEMA and does not overwrite it', async () => {
    const path = join(tempDir(), 'corrupt.db');
    const store = open(path);
    await store.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 'fill', payload: { i, pad: 'x'.repeat(200) } })));
    await store.close(); // checkpoints the WAL into the main file
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(4096 * 4);
    // Keep the 100-byte header valid; smash every page after the first.
    const fd = openSync(path, 'r+');
    try {
      const garbage = Buffer.alloc(size - 4096, 0xa5);
      writeSync(fd, garbage, 0, garbage.length, 4096);
    } finally {
      closeSync(fd);
    }
    const before = readFileSync(path);
    const err = await expectError(() => open(path), 'SCHEMA');
    expect(err.message).toMatch(/quick_check|not a usable SQLite database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file whose pages fail quick_check, and leaves it as it was', async () => {
    const path = join(tempDir(), 'page.db');
    const store = open(path);
    await store.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 'fill', payload: { i, pad: 'y'.repeat(200) } })));
    await store.close();
    const size = statSync(path).size;
    // One b-tree page near the end of the file turns to garbage; the schema page is intact.
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, size - 4096 * 3);
    } finally {
      closeSync(fd);
    }
    const before = readFileSync(path);
    const err = await expectError(() => open(path), 'SCHEMA');
    expect(err.message).toMatch(/quick_check/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

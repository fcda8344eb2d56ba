/**
 * SQLite-only: the driver's maintenance jobs on a database file (store.maintenance:
 * backup through the online backup API, WAL checkpoint, VACUUM, PRAGMA optimize and
 * integrity_check) and what close() does to the WAL. cleanup(), which every driver has,
 * is in test/engine/conformance/cleanup.test.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TaskwireError } from '../../../src/store/index.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/store/sqlite/migrations/index.js';
import { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { makeSqliteStore } from '../../helpers/sqlite.js';
import { expectError, tempDir } from '../../helpers/store.js';

const DAY = 86_400_000;

function fileStore(seed = 1) {
  const path = join(tempDir(), 'queue.db');
  return { path, ...makeSqliteStore({ path, seed }) };
}

describe('file maintenance', () => {
  it('backup writes a file that opens on its own and holds the rows', async () => {
    const { store } = fileStore();
    await store.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: 'b', payload: { i } })));
    const [c] = await store.claim({ workerId: 'w' });
    await store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken, result: { done: 1 } });
    const dest = join(tempDir(), 'backup.db');
    const report = await store.maintenance.backup!(dest);
    expect(report.bytes).toBeGreaterThan(0);
    expect(report.bytes).toBe(statSync(dest).size);
    expect(report).toMatchObject({ integrity: ['ok'], tasks: 50, schemaVersion: LATEST_SCHEMA_VERSION });
    expect(existsSync(dest)).toBe(true);

    const copy = new SqliteTaskStore({ path: dest, tailIntervalMs: 0 });
    try {
      expect(await copy.countTasks()).toBe(50);
      expect(await copy.getTask(c!.task.id)).toEqual(await store.getTask(c!.task.id));
      expect(await copy.maintenance.integrityCheck()).toEqual(['ok']);
      expect(await copy.lastEventId()).toBe(await store.lastEventId());
    } finally {
      await copy.close();
    }
    // The source keeps working after the backup.
    expect((await store.enqueue({ type: 'after', payload: {} })).created).toBe(true);
  });

  it('backup runs while the queue keeps taking writes', async () => {
    const { store } = fileStore();
    await store.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ type: 'b', payload: { i, pad: 'z'.repeat(300) } })));
    const dest = join(tempDir(), 'online.db');
    const running = store.maintenance.backup!(dest);
    // Writes between backup steps go through.
    for (let i = 0; i < 20; i++) expect((await store.enqueue({ type: 'during', payload: { i } })).created).toBe(true);
    await running;
    const copy = new Database(dest, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.prepare(`SELECT count(*) FROM tasks WHERE type = 'b'`).pluck().get()).toBe(3000);
    } finally {
      copy.close();
    }
    expect(await store.countTasks()).toBe(3020);
  });

  it('backup to a folder that does not exist fails with a TaskwireError', async () => {
    const { store } = fileStore();
    await store.enqueue({ type: 'x', payload: {} });
    let caught: unknown;
    try {
      await store.maintenance.backup!(join(tempDir(), 'missing', 'dir', 'b.db'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TaskwireError);
    expect(['STORAGE', 'VALIDATION']).toContain((caught as TaskwireError).code);
  });

  it('checkpoint truncates the WAL', async () => {
    const { store, path } = fileStore();
    await store.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 'w', payload: { i, pad: 'p'.repeat(100) } })));
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const walBefore = statSync(`${path}-wal`).size;
    const r = await store.maintenance.checkpoint!();
    expect(r).toEqual({ busy: false, logBytesBefore: walBefore, logBytesAfter: 0 });
    expect(statSync(`${path}-wal`).size).toBe(0);
    expect(await store.countTasks()).toBe(200);
    // Below the threshold nothing runs; above it, it does.
    await store.enqueue({ type: 'w', payload: {} });
    const small = statSync(`${path}-wal`).size;
    expect(small).toBeGreaterThan(0);
    expect(await store.maintenance.checkpoint!({ ifLargerThan: small })).toBeNull();
    expect(statSync(`${path}-wal`).size).toBe(small);
    expect(await store.maintenance.checkpoint!({ ifLargerThan: small - 1 })).toMatchObject({ busy: false, logBytesAfter: 0 });
  });

  it('vacuum gives back the space of deleted rows', async () => {
    const { store, clock } = fileStore();
    await store.enqueueMany(Array.from({ length: 1000 }, (_, i) => ({ type: 'v', payload: { i, pad: 'q'.repeat(300) } })));
    for (let i = 0; i < 2; i++) {
      const claimed = await store.claim({ workerId: 'w', limit: 500 });
      await store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    }
    clock.advance(2 * DAY);
    await store.cleanup(DAY);
    await store.maintenance.checkpoint!();
    const pagesBefore = store.db.pragma('page_count', { simple: true }) as number;
    expect(store.db.pragma('freelist_count', { simple: true })).toBeGreaterThan(0);
    const { bytesBefore, bytesAfter } = await store.maintenance.vacuum!();
    await store.maintenance.checkpoint!();
    expect(store.db.pragma('freelist_count', { simple: true })).toBe(0);
    expect(store.db.pragma('page_count', { simple: true }) as number).toBeLessThan(pagesBefore);
    const pageSize = store.db.pragma('page_size', { simple: true }) as number;
    expect(bytesBefore).toBe(pagesBefore * pageSize);
    expect(bytesAfter).toBe((store.db.pragma('page_count', { simple: true }) as number) * pageSize);
    expect(bytesAfter).toBeLessThan(bytesBefore);
    expect(await store.maintenance.integrityCheck()).toEqual(['ok']);
  });

  it('optimize and integrityCheck run on a healthy file', async () => {
    const { store } = fileStore();
    await store.enqueue({ type: 'x', payload: {} });
    await store.maintenance.optimize!();
    expect(await store.maintenance.integrityCheck()).toEqual(['ok']);
    const sizes = await store.maintenance.sizes();
    expect(Object.keys(sizes).sort()).toEqual(['db', 'wal']);
    expect(sizes.db).toBeGreaterThan(0);
  });

  it('close checkpoints the WAL and a closed store refuses work', async () => {
    const path = join(tempDir(), 'closing.db');
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0 });
    await store.enqueue({ type: 'x', payload: {} });
    await store.close();
    await store.close(); // twice is fine
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
    await expectError(store.enqueue({ type: 'x', payload: {} }), 'STORAGE');
    await expectError(store.getTask(1), 'STORAGE');
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare('SELECT count(*) FROM tasks').pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  });
});

/**
 * SQLite-only. The server's WAL checkpoints run on a worker thread (src/store/sqlite/checkpointer.ts):
 * its own connection never checkpoints inside a commit, yet the log is copied into the
 * database file and the WAL does not grow without bound.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../../src/store/sqlite/store.js';
import { tempDir } from '../../helpers/store.js';

describe('checkpoint thread', () => {
  it('turns the automatic checkpoint off, checkpoints from its thread, and keeps the WAL bounded', async () => {
    const path = join(tempDir(), 'ckpt.db');
    // A long interval: the test drives the checkpoints with runNow().
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0, checkpointThreadMs: 60_000 });
    try {
      expect(store.info.settings.wal_autocheckpoint).toBe(0);
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const payload = { blob: 'x'.repeat(2000) };
      for (let i = 0; i < 20; i++) await store.enqueueMany(Array.from({ length: 100 }, (_, j) => ({ type: 't', payload: { ...payload, i, j } })));
      // Without a checkpoint the log holds every page written so far.
      const before = statSync(`${path}-wal`).size;
      expect(before).toBeGreaterThan(4 * 1024 * 1024);
      const report = await store.checkpoints!.runNow();
      expect(report.log).toBeGreaterThan(1000);
      expect(report.checkpointed).toBe(report.log);
      // The log starts over after a complete checkpoint: more writes reuse it, not grow it.
      for (let i = 0; i < 20; i++) await store.enqueueMany(Array.from({ length: 100 }, (_, j) => ({ type: 't', payload: { ...payload, i, j } })));
      await store.checkpoints!.runNow();
      for (let i = 0; i < 5; i++) await store.enqueueMany(Array.from({ length: 100 }, (_, j) => ({ type: 't', payload: { ...payload, i, j } })));
      expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(before * 1.1);
    } finally {
      await store.close();
    }
    // Everything reached the database file: a fresh connection sees all 4,500 tasks.
    const db = new Database(path, { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS c FROM tasks').get() as { c: number }).c).toBe(4500);
    } finally {
      db.close();
    }
  });

  it('checkpoints on its own at the interval', async () => {
    const path = join(tempDir(), 'tick.db');
    const store = new SqliteTaskStore({ path, tailIntervalMs: 0, checkpointThreadMs: 20 });
    try {
      await store.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 't', payload: { i } })));
      const deadline = Date.now() + 10_000;
      while ((store.checkpoints!.report?.checkpointed ?? 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(store.checkpoints!.report!.runs).toBeGreaterThan(0);
      expect(store.checkpoints!.report!.checkpointed).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('a store without it keeps SQLite’s automatic checkpoint', async () => {
    const store = new SqliteTaskStore({ path: join(tempDir(), 'auto.db'), tailIntervalMs: 0 });
    try {
      expect(store.checkpoints).toBeNull();
      expect(store.info.settings.wal_autocheckpoint).toBe(1000);
    } finally {
      await store.close();
    }
  });
});

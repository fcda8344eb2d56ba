import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore, TaskwireError } from '../../src/store/index.js';
import { T0, expectError, makeStore, tempDir } from '../helpers/store.js';

const DAY = 86_400_000;

function fileStore(seed = 1) {
  const path = join(tempDir(), 'queue.db');
  return { path, ...makeStore({ path, seed }) };
}

describe('cleanup', () => {
  it('removes old finished tasks with their logs, dependency rows and events; keeps recent and unfinished ones', async () => {
    const { store, clock } = fileStore();
    // Day 0: an old success with a log and a dependent, an old failure, an old cancel,
    // and old tasks that never finished.
    const [oldOk, oldFail, oldCancel, oldQueued, oldRunning] = (
      await store.enqueueMany([
        { type: 'ok', payload: {}, idempotencyKey: 'old-ok' },
        { type: 'fail', payload: {} },
        { type: 'cancel', payload: {} },
        { type: 'queued', payload: {}, delaySeconds: 30 * 86_400 },
        { type: 'running', payload: {} },
      ])
    ).map((r) => r.task.id) as [number, number, number, number, number];
    const blocked = (await store.enqueue({ type: 'blocked', payload: {}, dependsOn: [oldOk, oldRunning] })).task.id;
    const okClaim = (await store.claim({ workerId: 'w', types: ['ok'] }))[0]!;
    await store.appendLog({ taskId: oldOk, level: 'INFO', message: 'working', leaseToken: okClaim.leaseToken });
    await store.complete({ taskId: oldOk, leaseToken: okClaim.leaseToken });
    const failClaim = (await store.claim({ workerId: 'w', types: ['fail'] }))[0]!;
    await store.fail({ taskId: oldFail, leaseToken: failClaim.leaseToken, error: 'x', retryable: false });
    await store.cancel(oldCancel);
    await store.claim({ workerId: 'w', types: ['running'], leaseSeconds: 86_400 });
    // Day 9: a recent success.
    clock.advance(9 * DAY);
    const recent = (await store.enqueue({ type: 'recent', payload: {}, idempotencyKey: 'recent' })).task.id;
    const rc = (await store.claim({ workerId: 'w', types: ['recent'] }))[0]!;
    await store.complete({ taskId: recent, leaseToken: rc.leaseToken });
    const eventsBefore = await store.eventsAfter(0, 10_000);
    const cutoff = T0 + 9 * DAY - 7 * DAY;
    const oldEvents = eventsBefore.filter((e) => e.at < cutoff);

    // Until cleanup, the old idempotency key still deduplicates.
    expect((await store.enqueue({ type: 'ok', payload: {}, idempotencyKey: 'old-ok' })).created).toBe(false);

    const result = await store.cleanup(7 * DAY);
    expect(result).toEqual({ tasks: 3, logs: 1, events: oldEvents.length });
    expect(await store.getTasks([oldOk, oldFail, oldCancel])).toEqual([null, null, null]);
    for (const id of [oldQueued, oldRunning, blocked, recent]) expect(await store.getTask(id)).not.toBeNull();
    expect(store.db.prepare('SELECT count(*) FROM task_logs WHERE task_id = ?').pluck().get(oldOk)).toBe(0);
    // The edge to the removed task is gone; the one to the unfinished task stays.
    expect(await store.dependencyIds([blocked])).toEqual([[oldRunning]]);
    expect((await store.getTask(blocked))!.status).toBe('BLOCKED');
    // Events older than the cutoff are gone; later ones stay.
    const after = await store.eventsAfter(0, 10_000);
    expect(after).toEqual(eventsBefore.filter((e) => e.at >= cutoff));
    expect(after.length).toBeGreaterThan(0);
    // After cleanup, the old key is free again; the recent one still deduplicates.
    expect((await store.enqueue({ type: 'ok', payload: {}, idempotencyKey: 'old-ok' })).created).toBe(true);
    expect((await store.enqueue({ type: 'recent', payload: {}, idempotencyKey: 'recent' })).created).toBe(false);
    // Ids are never handed out again.
    const { task } = await store.enqueue({ type: 'new', payload: {} });
    expect(task.id).toBeGreaterThan(recent);
    expect(await store.integrityCheck()).toEqual(['ok']);
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('removes nothing when nothing is old enough', async () => {
    const { store } = fileStore();
    const { task } = await store.enqueue({ type: 'x', payload: {} });
    await store.cancel(task.id);
    expect(await store.cleanup(DAY)).toEqual({ tasks: 0, logs: 0, events: 0 });
    expect(await store.getTask(task.id)).not.toBeNull();
  });

  it('works through more rows than one batch', async () => {
    const { store, clock } = makeStore();
    const many = await store.enqueueMany(Array.from({ length: 2500 }, () => ({ type: 'x', payload: {} })));
    for (let i = 0; i < many.length; i += 500) {
      const claimed = await store.claim({ workerId: 'w', limit: 500, strategy: 'FIFO' });
      await store.completeMany(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    }
    clock.advance(2 * DAY);
    expect((await store.cleanup(DAY)).tasks).toBe(2500);
    expect(await store.countTasks()).toBe(0);
  });

  it('rejects a negative or non-finite age', async () => {
    const { store } = makeStore();
    await expectError(store.cleanup(-1), 'VALIDATION');
    await expectError(store.cleanup(Number.NaN), 'VALIDATION');
  });
});

describe('file maintenance', () => {
  it('backup writes a file that opens on its own and holds the rows', async () => {
    const { store } = fileStore();
    await store.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: 'b', payload: { i } })));
    const [c] = await store.claim({ workerId: 'w' });
    await store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken, result: { done: 1 } });
    const dest = join(tempDir(), 'backup.db');
    const { totalPages } = await store.backup(dest);
    expect(totalPages).toBeGreaterThan(0);
    expect(existsSync(dest)).toBe(true);

    const copy = new SqliteTaskStore({ path: dest, tailIntervalMs: 0 });
    try {
      expect(await copy.countTasks()).toBe(50);
      expect(await copy.getTask(c!.task.id)).toEqual(await store.getTask(c!.task.id));
      expect(await copy.integrityCheck()).toEqual(['ok']);
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
    const running = store.backup(dest);
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
      await store.backup(join(tempDir(), 'missing', 'dir', 'b.db'));
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
    const r = await store.checkpoint();
    expect(r.busy).toBe(0);
    expect(statSync(`${path}-wal`).size).toBe(0);
    expect(await store.countTasks()).toBe(200);
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
    await store.checkpoint();
    const pagesBefore = store.db.pragma('page_count', { simple: true }) as number;
    expect(store.db.pragma('freelist_count', { simple: true })).toBeGreaterThan(0);
    await store.vacuum();
    await store.checkpoint();
    expect(store.db.pragma('freelist_count', { simple: true })).toBe(0);
    expect(store.db.pragma('page_count', { simple: true }) as number).toBeLessThan(pagesBefore);
    expect(await store.integrityCheck()).toEqual(['ok']);
  });

  it('optimize and integrityCheck run on a healthy file', async () => {
    const { store } = fileStore();
    await store.enqueue({ type: 'x', payload: {} });
    await store.optimize();
    expect(await store.integrityCheck()).toEqual(['ok']);
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

import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Background, UPKEEP_DEFAULTS } from '../../src/server/background.js';
// The SQLite class itself: the test hands it its own bus.
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';

const DAY = 86_400_000;

function setup() {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const bus = new EventBus();
  const store = new SqliteTaskStore({ path: join(mkdtempSync(join(tmpdir(), 'tw-upkeep-')), 'u.db'), now: () => clock, bus, tailIntervalMs: 0 });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => void lines.push(JSON.parse(l)) });
  const metrics = new Metrics().observe(store, { webSockets: () => 0, subscriptions: () => 0 });
  const upkeep = new Background(store, logger, metrics, { ...UPKEEP_DEFAULTS, sweepIntervalMs: 1000, retentionMs: 7 * DAY });
  return { store, upkeep, metrics, lines, advance: (ms: number) => (clock += ms), now: () => clock };
}

async function finishOne(store: SqliteTaskStore, type: string) {
  const { task } = await store.enqueue({ type, payload: {}, idempotencyKey: `key-${type}` });
  const [c] = await store.claim({ workerId: 'w', types: [type] });
  await store.appendLog({ taskId: task.id, level: 'INFO', message: 'working' });
  await store.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
  return task.id;
}

describe('upkeep', () => {
  it('removes finished tasks past the retention, keeps younger and unfinished ones, and says so', async () => {
    const t = setup();
    const old = await finishOne(t.store, 'old');
    t.advance(3 * DAY);
    const young = await finishOne(t.store, 'young');
    const { task: waiting } = await t.store.enqueue({ type: 'waiting', payload: {} });
    t.advance(5 * DAY); // old finished 8 days ago, young 5 days ago

    await t.upkeep.tick(t.now());

    expect(await t.store.getTask(old)).toBeNull();
    expect((await t.store.listLogs(old)).items).toHaveLength(0);
    expect(await t.store.getTask(young)).not.toBeNull();
    expect(await t.store.getTask(waiting.id)).not.toBeNull();
    // The idempotency key of the removed task is free again; the young one still dedups.
    expect((await t.store.enqueue({ type: 'old', payload: {}, idempotencyKey: 'key-old' })).created).toBe(true);
    expect((await t.store.enqueue({ type: 'young', payload: {}, idempotencyKey: 'key-young' })).created).toBe(false);
    // Outbox rows older than the retention went with it.
    const events = await t.store.eventsAfter(0, 1000);
    expect(events.every((e) => e.at >= t.now() - 7 * DAY)).toBe(true);

    const cleanup = t.lines.find((l) => l.job === 'cleanup');
    expect(cleanup).toMatchObject({ msg: 'upkeep: cleanup', tasks: 1, logs: 1 });
    const text = await t.metrics.render();
    expect(text).toMatch(/taskwire_upkeep_runs_total\{job="cleanup",outcome="ok"\} 1/);
    expect(text).toMatch(/taskwire_upkeep_removed_total\{what="tasks"\} 1/);
    await t.store.close();
  });

  it('runs retention at most once per period however often it ticks', async () => {
    const t = setup();
    await t.upkeep.tick(t.now());
    await t.upkeep.tick(t.now() + 1000);
    expect(t.lines.filter((l) => l.job === 'cleanup')).toHaveLength(1);
    await t.upkeep.tick(t.now() + UPKEEP_DEFAULTS.retentionEveryMs);
    expect(t.lines.filter((l) => l.job === 'cleanup')).toHaveLength(2);
    await t.store.close();
  });

  it('with the database locked by another process, retention gives up quickly and runs on the next tick', async () => {
    const t = setup();
    const old = await finishOne(t.store, 'old');
    t.advance(8 * DAY);
    const other = new Database(t.store.info.location);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await t.upkeep.tick(t.now());
    // Waited briefly for the lock (background writes), not the 5 s busy timeout.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(t.lines.find((l) => l.job === 'cleanup')).toMatchObject({ msg: 'database busy: cleanup skipped this tick' });
    expect(await t.store.getTask(old)).not.toBeNull();
    other.exec('COMMIT');
    other.close();
    await t.upkeep.tick(t.now() + 1000);
    expect(t.lines.find((l) => l.msg === 'upkeep: cleanup')).toMatchObject({ tasks: 1 });
    expect(await t.store.getTask(old)).toBeNull();
    await t.store.close();
  });

  it('a sweep skipped by another process holding the lock is ordinary contention; starved for 5 s it is a warning', async () => {
    const t = setup();
    await t.upkeep.tick(t.now()); // the sweep runs once
    const other = new Database(t.store.info.location);
    other.exec('BEGIN IMMEDIATE');
    const busy = () => t.lines.filter((l) => String(l.msg).startsWith('database busy: sweep'));
    for (let beat = 1; beat <= 4; beat++) await t.upkeep.tick(t.now() + beat * 1000);
    expect(busy()).toEqual([]); // skipped four beats: not worth a warning
    await t.upkeep.tick(t.now() + 5000);
    expect(busy()).toMatchObject([{ level: 40, job: 'sweep', starvedMs: 5000 }]);
    other.exec('COMMIT');
    other.close();
    // Once it runs again, the count starts over.
    await t.upkeep.tick(t.now() + 6000);
    const again = new Database(t.store.info.location);
    again.exec('BEGIN IMMEDIATE');
    await t.upkeep.tick(t.now() + 7000);
    again.exec('COMMIT');
    again.close();
    expect(busy()).toHaveLength(1);
    await t.store.close();
  });

  it('checkpoints the WAL once it grows past the threshold', async () => {
    const t = setup();
    const small = new Background(t.store, createLogger({ write: (l) => void t.lines.push(JSON.parse(l)) }), t.metrics, {
      ...UPKEEP_DEFAULTS,
      sweepIntervalMs: 1000,
      walCheckpointBytes: 1,
    });
    await t.store.enqueueMany(Array.from({ length: 50 }, () => ({ type: 'x', payload: { pad: 'y'.repeat(500) } })));
    await small.tick(t.now());
    expect(t.lines.some((l) => l.job === 'checkpoint' && l.msg === 'upkeep: checkpoint')).toBe(true);
    await t.store.close();
  });
});

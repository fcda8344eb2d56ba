/**
 * SQLite-only. Guarded writes: a decision made on a stale read changes nothing. SQLite's
 * single writer never lets a read go stale inside one transaction, so these tests hand
 * the engine's endAttempt unit the stale snapshot directly, as a second writer on another
 * database would leave it (an attempt that has already ended, a task that was claimed
 * again since), and run it through the driver seam (Driver.write) on a SQLite driver.
 * The same promise through the public API, on every driver: test/races/attempts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../src/store/engine/engine.js';
import type { EngineEnv } from '../../../src/store/engine/env.js';
import { endAttempt } from '../../../src/store/engine/ops/leases.js';
import { DEFAULTS, type StoredEvent } from '../../../src/store/index.js';
import { SqliteDriver } from '../../../src/store/sqlite/driver.js';
import { Clock } from '../../helpers/store.js';

/** An engine on a SQLite driver (what SqliteTaskStore is), with the driver in hand. */
function engineWithDriver(backoffBaseMs: number = DEFAULTS.backoffBaseMs) {
  const clock = new Clock();
  const driver = new SqliteDriver({ path: ':memory:', tailIntervalMs: 0 });
  const env: EngineEnv = {
    now: clock.now,
    random: () => 0.5,
    defaultLeaseSeconds: DEFAULTS.leaseSeconds,
    backoffBaseMs,
    backoffCapMs: DEFAULTS.backoffCapMs,
    staleWorkerAfterMs: DEFAULTS.staleWorkerAfterMs,
    maxPayloadBytes: DEFAULTS.maxPayloadBytes,
  };
  const store = new Engine(driver, env);
  const events: StoredEvent[] = [];
  store.bus.subscribe((e) => events.push(e));
  return { store, driver, env, clock, events };
}

describe('ending an attempt is guarded by the attempt it read', () => {
  it('a stale snapshot of attempt 1 cannot end attempt 2, and records no event', async () => {
    const { store, driver, env, clock, events } = engineWithDriver(0);
    try {
      const { task } = await store.enqueue({ type: 't', payload: {}, maxAttempts: 5 });
      const [first] = await store.claim({ workerId: 'w1' });
      const snapshot = (await store.getTask(task.id))!; // RUNNING, attempt 1
      await store.fail({ taskId: task.id, leaseToken: first!.leaseToken, error: 'boom', retryAfterSeconds: 0 });
      const [second] = await store.claim({ workerId: 'w2' });
      expect(second!.task.attempts).toBe(2);
      const before = events.length;

      // What a sweeper that read attempt 1 would write now, inside a transaction of its own.
      const cause = { error: 'lease expired', retryable: true, retryAfterSeconds: null, cause: 'LEASE_EXPIRED' as const };
      const ended = await driver.write(endAttempt(snapshot, cause, clock.now(), env));

      expect(ended).toBeNull();
      const now = (await store.getTask(task.id))!;
      expect(now).toMatchObject({ status: 'RUNNING', attempts: 2, lockedBy: 'w2' });
      expect(events.length).toBe(before);
      // The holder of attempt 2 still completes it.
      await store.complete({ taskId: task.id, leaseToken: second!.leaseToken, result: { ok: true } });
      expect((await store.getTask(task.id))!.status).toBe('SUCCEEDED');
    } finally {
      await store.close();
    }
  });

  it('the snapshot of the attempt that is running ends it', async () => {
    const { store, driver, env, clock } = engineWithDriver();
    try {
      const { task } = await store.enqueue({ type: 't', payload: {}, maxAttempts: 1 });
      await store.claim({ workerId: 'w1' });
      const snapshot = (await store.getTask(task.id))!;
      const cause = { error: 'timed out', retryable: true, retryAfterSeconds: null, cause: 'TIMED_OUT' as const };
      const ended = await driver.write(endAttempt(snapshot, cause, clock.now(), env));
      expect(ended).toMatchObject({ id: task.id, status: 'FAILED', errorMessage: 'timed out' });
    } finally {
      await store.close();
    }
  });
});

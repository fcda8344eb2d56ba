/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * A timeout firing while the worker keeps heartbeating, with an injected clock moved in
 * 200 ms heartbeat steps: sweep() fails the attempt with TIMED_OUT, the retry rules
 * apply, and the worker's late calls get LEASE_LOST. Over a real server:
 * test/scheduling/timeouts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Clock, at, expectError, makeStore } from '../../helpers/drivers.js';

/** A store of its own with the clock (jitter 0.5 unless given). */
const open = async (clock: Clock, extra: { backoffBaseMs?: number; random?: () => number } = {}) =>
  (await makeStore({ clock, random: () => 0.5, ...extra })).store;

const kindsOf = (events: { kind: string }[]) => events.map((e) => e.kind).filter((k) => k !== 'LOG_ADDED' && k !== 'WORKER_UPDATED');

describe('timeouts on the engine (injected clock)', () => {
  it('heartbeats every 200 ms do not stop a 1 s timeout; the attempt is retried, then FAILED when attempts run out', async () => {
    const T0 = at('2026-02-01T00:00:00Z');
    const clock = new Clock(T0);
    const store = await open(clock, { backoffBaseMs: 1000 });
    const events: { kind: string; taskId: number | null }[] = [];
    store.bus.subscribe((e) => events.push(e));
    const { task } = await store.enqueue({ type: 'slow', payload: {}, timeoutSeconds: 1, maxAttempts: 2 });

    for (let attempt = 1; attempt <= 2; attempt++) {
      const [c] = await store.claim({ workerId: 'w1', leaseSeconds: 2 });
      expect(c!.task).toMatchObject({ id: task.id, attempts: attempt });
      const ref = { taskId: task.id, leaseToken: c!.leaseToken };
      const claimedAt = clock.t;
      // Heartbeats every 200 ms keep the lease ahead; until the deadline, sweep leaves the task alone.
      for (let k = 1; k <= 4; k++) {
        clock.t = claimedAt + k * 200;
        const hb = await store.heartbeat({ workerId: 'w1', leases: [ref], extendSeconds: 2 });
        expect(hb.leases[0]).toMatchObject({ lost: false, leaseUntil: clock.t + 2000 });
        await store.reportProgress({ ...ref, progress: k / 10 });
        expect(await store.sweep()).toEqual({ expired: 0, timedOut: 0, staleWorkers: 0 });
      }
      clock.t = claimedAt + 999;
      expect((await store.sweep()).timedOut).toBe(0);
      clock.t = claimedAt + 1000;
      await store.heartbeat({ workerId: 'w1', leases: [ref], extendSeconds: 2 });
      // The lease is valid for another 2 s, but the deadline has come.
      expect((await store.getTask(task.id))!.leaseUntil).toBeGreaterThan(clock.t);
      expect(await store.sweep()).toEqual({ expired: 0, timedOut: 1, staleWorkers: 0 });

      const after = (await store.getTask(task.id))!;
      expect(after.errorMessage).toBe('timed out after 1s');
      expect(after.leaseUntil).toBeNull();
      if (attempt === 1) {
        expect(after.status).toBe('QUEUED');
        expect(after.runAfter).toBe(clock.t + 500); // backoff 1 s with jitter 0.5
      } else {
        expect(after.status).toBe('FAILED');
        expect(after.finishedAt).toBe(clock.t);
      }
      // The worker carries on as if nothing happened: every call about the task is refused.
      expect((await store.heartbeat({ workerId: 'w1', leases: [ref] })).leases[0]).toMatchObject({ lost: true, leaseUntil: null });
      await expectError(store.reportProgress({ ...ref, progress: 0.9 }), 'LEASE_LOST');
      await expectError(store.complete({ ...ref, result: 'late' }), 'LEASE_LOST');
      await expectError(store.fail({ ...ref, error: 'late' }), 'LEASE_LOST');
      expect((await store.getTask(task.id))!.status).toBe(attempt === 1 ? 'QUEUED' : 'FAILED');
      if (attempt === 1) {
        expect(await store.claim({ workerId: 'w1' })).toEqual([]); // backing off
        clock.t = after.runAfter;
      }
    }
    expect(kindsOf(events)).toEqual([
      'ENQUEUED',
      'CLAIMED',
      ...Array(4).fill('PROGRESS'),
      'TIMED_OUT',
      'RETRY_SCHEDULED',
      'CLAIMED',
      ...Array(4).fill('PROGRESS'),
      'TIMED_OUT',
      'FAILED',
    ]);
    expect(await store.sweep()).toEqual({ expired: 0, timedOut: 0, staleWorkers: 0 });
  });

  it('the late completion of a timed-out attempt does not touch the next attempt, held by another worker', async () => {
    const clock = new Clock(at('2026-02-01T00:00:00Z'));
    const store = await open(clock, { backoffBaseMs: 1000, random: () => 0 });
    const { task } = await store.enqueue({ type: 'slow', payload: {}, timeoutSeconds: 1, maxAttempts: 3 });
    const [first] = await store.claim({ workerId: 'old', leaseSeconds: 30 });
    clock.t += 1000;
    expect((await store.sweep()).timedOut).toBe(1);
    const [second] = await store.claim({ workerId: 'new', leaseSeconds: 30 });
    expect(second!.task).toMatchObject({ id: task.id, attempts: 2, lockedBy: 'new' });
    await expectError(store.complete({ taskId: task.id, leaseToken: first!.leaseToken, result: 'stale' }), 'LEASE_LOST');
    expect((await store.getTask(task.id))!).toMatchObject({ status: 'RUNNING', lockedBy: 'new', result: null });
    expect((await store.complete({ taskId: task.id, leaseToken: second!.leaseToken, result: 'fresh' })).result).toBe('fresh');
  });
});

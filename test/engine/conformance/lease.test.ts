/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * A lease and what needs it: heartbeat, progress, complete, fail (retries and backoff),
 * cancel, retry and logs.
 */
import { describe, expect, it } from 'vitest';
import { T0, enqueueAndClaim, expectError, makeStore } from '../../helpers/drivers.js';

const WRONG = '00000000-0000-4000-8000-000000000000';

describe('heartbeat', () => {
  it('extends the leases it presents and refreshes the worker', async () => {
    const { store, clock } = await makeStore();
    const c = await enqueueAndClaim(store, {}, 'w1', 30);
    clock.advance(20_000);
    const hb = await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: c.leaseToken }], extendSeconds: 60 });
    expect(hb.leases).toEqual([{ taskId: c.task.id, leaseUntil: T0 + 80_000, cancelRequested: false, lost: false }]);
    expect(hb.worker).toMatchObject({ id: 'w1', status: 'ACTIVE', heartbeatAt: T0 + 20_000 });
    expect((await store.getTask(c.task.id))?.leaseUntil).toBe(T0 + 80_000);
  });

  it('never shortens a lease', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store, {}, 'w1', 600);
    const hb = await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: c.leaseToken }], extendSeconds: 5 });
    expect(hb.leases[0]!.leaseUntil).toBe(T0 + 600_000);
  });

  it('reports a wrong token as lost and leaves the lease alone', async () => {
    const { store, clock } = await makeStore();
    const c = await enqueueAndClaim(store);
    clock.advance(1_000);
    const hb = await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: WRONG }] });
    expect(hb.leases).toEqual([{ taskId: c.task.id, leaseUntil: null, cancelRequested: false, lost: true }]);
    expect((await store.getTask(c.task.id))?.leaseUntil).toBe(c.leaseUntil);
  });

  it('reports a finished task and an unknown task as lost', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
    const hb = await store.heartbeat({
      workerId: 'w1',
      leases: [
        { taskId: c.task.id, leaseToken: c.leaseToken },
        { taskId: 9999, leaseToken: c.leaseToken },
      ],
    });
    expect(hb.leases.map((l) => l.lost)).toEqual([true, true]);
  });

  it('reports cancelRequested for a lease it still holds', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    await store.cancel(c.task.id, 'user asked');
    const hb = await store.heartbeat({ workerId: 'w1', leases: [{ taskId: c.task.id, leaseToken: c.leaseToken }] });
    expect(hb.leases[0]).toMatchObject({ lost: false, cancelRequested: true });
  });

  it('brings a STALE worker back to ACTIVE and stores new capabilities', async () => {
    const { store, clock } = await makeStore({ staleWorkerAfterMs: 10_000 });
    await store.heartbeat({ workerId: 'w1', capabilities: { region: 'eu' } });
    clock.advance(10_001);
    expect((await store.sweep()).staleWorkers).toBe(1);
    expect((await store.getWorker('w1'))?.status).toBe('STALE');
    const hb = await store.heartbeat({ workerId: 'w1', capabilities: { region: 'us' } });
    expect(hb.worker).toMatchObject({ status: 'ACTIVE', capabilities: { region: 'us' }, heartbeatAt: T0 + 10_001 });
  });

  it('validates its input', async () => {
    const { store } = await makeStore();
    await expectError(store.heartbeat({ workerId: '' }), 'VALIDATION');
    await expectError(store.heartbeat({ workerId: 'w', extendSeconds: 0 }), 'VALIDATION');
    await expectError(store.heartbeat({ workerId: 'w', leases: [{ taskId: -1, leaseToken: 'x' }] }), 'VALIDATION');
    expect(await store.listWorkers()).toEqual([]);
  });
});

describe('reportProgress, complete and fail need the current token', () => {
  it('reportProgress stores progress and message and emits PROGRESS', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store);
    clock.advance(500);
    const t = await store.reportProgress({ taskId: c.task.id, leaseToken: c.leaseToken, progress: 0.25, message: 'a quarter' });
    expect(t).toMatchObject({ progress: 0.25, progressMessage: 'a quarter', updatedAt: T0 + 500, status: 'RUNNING' });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'PROGRESS']);
  });

  it.each([-0.01, 1.01, Number.NaN, Number.POSITIVE_INFINITY])('progress %s is a VALIDATION error', async (progress) => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    const err = await expectError(store.reportProgress({ taskId: c.task.id, leaseToken: c.leaseToken, progress }), 'VALIDATION');
    expect(err.details?.field).toBe('progress');
    expect((await store.getTask(c.task.id))?.progress).toBeNull();
  });

  it('accepts progress 0 and 1 exactly', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    expect((await store.reportProgress({ taskId: c.task.id, leaseToken: c.leaseToken, progress: 0 })).progress).toBe(0);
    expect((await store.reportProgress({ taskId: c.task.id, leaseToken: c.leaseToken, progress: 1 })).progress).toBe(1);
  });

  for (const op of ['progress', 'complete', 'fail'] as const) {
    it(`${op} with a wrong token is LEASE_LOST and leaves the row unchanged`, async () => {
      const { store, clock, events, probe } = await makeStore();
      const c = await enqueueAndClaim(store);
      clock.advance(1_000);
      const before = await probe.taskRecord(c.task.id);
      expect(before).not.toBeNull();
      const eventCount = events.length;
      const ref = { taskId: c.task.id, leaseToken: WRONG };
      const call =
        op === 'progress'
          ? store.reportProgress({ ...ref, progress: 0.5 })
          : op === 'complete'
            ? store.complete({ ...ref, result: { stolen: true } })
            : store.fail({ ...ref, error: 'boom', retryable: false });
      const err = await expectError(call, 'LEASE_LOST');
      expect(err.details?.taskId).toBe(c.task.id);
      expect(await probe.taskRecord(c.task.id)).toEqual(before);
      expect(events.length).toBe(eventCount);
    });

    it(`${op} on an unknown task is NOT_FOUND`, async () => {
      const { store } = await makeStore();
      const ref = { taskId: 4242, leaseToken: WRONG };
      const call =
        op === 'progress'
          ? store.reportProgress({ ...ref, progress: 0.5 })
          : op === 'complete'
            ? store.complete(ref)
            : store.fail({ ...ref, error: 'boom' });
      await expectError(call, 'NOT_FOUND');
    });
  }

  it('a token stops working once its task is claimed again by someone else', async () => {
    const { store, clock } = await makeStore();
    const old = await enqueueAndClaim(store, {}, 'w1', 10);
    clock.advance(10_001);
    await store.sweep();
    const [fresh] = await store.claim({ workerId: 'w2' });
    expect(fresh!.task.id).toBe(old.task.id);
    expect(fresh!.leaseToken).not.toBe(old.leaseToken);
    await expectError(store.complete({ taskId: old.task.id, leaseToken: old.leaseToken }), 'LEASE_LOST');
    await expectError(store.reportProgress({ taskId: old.task.id, leaseToken: old.leaseToken, progress: 0.9 }), 'LEASE_LOST');
    await expectError(store.fail({ taskId: old.task.id, leaseToken: old.leaseToken, error: 'late' }), 'LEASE_LOST');
    expect(await store.getTask(old.task.id)).toMatchObject({ status: 'RUNNING', lockedBy: 'w2', attempts: 2, progress: null });
    const done = await store.complete({ taskId: fresh!.task.id, leaseToken: fresh!.leaseToken });
    expect(done.status).toBe('SUCCEEDED');
  });

  it('complete stores the result, finishes the task and drops the lease', async () => {
    const { store, clock, taskKinds, probe } = await makeStore();
    const c = await enqueueAndClaim(store);
    clock.advance(3_000);
    const t = await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken, result: { url: 'https://x/y' } });
    expect(t).toMatchObject({
      status: 'SUCCEEDED',
      result: { url: 'https://x/y' },
      finishedAt: T0 + 3_000,
      leaseUntil: null,
      progress: 1,
      errorMessage: null,
    });
    expect(await probe.leaseToken(c.task.id)).toBeNull();
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'SUCCEEDED']);
    // Completing twice is refused.
    await expectError(store.complete({ taskId: c.task.id, leaseToken: c.leaseToken }), 'LEASE_LOST');
  });

  it('complete without a result stores null', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    expect((await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken })).result).toBeNull();
  });
});

describe('fail, retries and backoff', () => {
  it('a retryable failure goes back to QUEUED with run_after = now + full-jitter backoff', async () => {
    let r = 0.5;
    const { store, clock, taskKinds } = await makeStore({ random: () => r, backoffBaseMs: 1_000, backoffCapMs: 60_000 });
    const { task } = await store.enqueue({ type: 'job', payload: {}, maxAttempts: 10 });
    // Attempt n waits floor(random * min(cap, base * 2^(n-1))).
    const expectedCeilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
    for (const [i, ceiling] of expectedCeilings.entries()) {
      r = [0.5, 0.999, 0, 0.25][i % 4]!;
      const [c] = await store.claim({ workerId: 'w' });
      expect(c!.task.attempts).toBe(i + 1);
      const failedAt = clock.t;
      const t = await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: `boom ${i}` });
      expect(t.status).toBe('QUEUED');
      expect(t.errorMessage).toBe(`boom ${i}`);
      expect(t.runAfter).toBe(failedAt + Math.floor(r * ceiling));
      expect(t.runAfter - failedAt).toBeGreaterThanOrEqual(0);
      expect(t.runAfter - failedAt).toBeLessThanOrEqual(ceiling);
      expect(t).toMatchObject({ leaseUntil: null, lockedBy: 'w' });
      // Not claimable before its time, claimable at it.
      if (t.runAfter > clock.t) {
        expect(await store.claim({ workerId: 'w' })).toEqual([]);
      }
      clock.t = t.runAfter;
    }
    expect(taskKinds().filter((k) => k === 'RETRY_SCHEDULED')).toHaveLength(expectedCeilings.length);
  });

  it('backoff stays within [0, ceiling] for many seeded draws', async () => {
    const { store, clock } = await makeStore({ seed: 99, backoffBaseMs: 500, backoffCapMs: 3_000 });
    const { task } = await store.enqueue({ type: 'job', payload: {}, maxAttempts: 1000 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 60; attempt++) {
      const [c] = await store.claim({ workerId: 'w' });
      const t = await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'e' });
      const ceiling = Math.min(3_000, 500 * 2 ** (attempt - 1));
      const delay = t.runAfter - clock.t;
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceiling);
      delays.push(delay);
      clock.t = t.runAfter;
    }
    // Full jitter: the capped delays spread out rather than all sitting at the cap.
    const capped = delays.slice(10);
    expect(new Set(capped).size).toBeGreaterThan(10);
    expect(Math.min(...capped)).toBeLessThan(1_500);
  });

  it('retryAfterSeconds overrides the backoff', async () => {
    const { store, clock } = await makeStore({ random: () => 0.999 });
    const c = await enqueueAndClaim(store);
    clock.advance(100);
    const t = await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'rate limited', retryAfterSeconds: 120 });
    expect(t.status).toBe('QUEUED');
    expect(t.runAfter).toBe(T0 + 100 + 120_000);
  });

  it('retryable: false fails the task at once (dead letter)', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store);
    clock.advance(100);
    const t = await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'bad input', retryable: false });
    expect(t).toMatchObject({ status: 'FAILED', errorMessage: 'bad input', finishedAt: T0 + 100, attempts: 1, leaseUntil: null });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'FAILED']);
    expect(await store.countTasks({ status: ['FAILED'] })).toBe(1);
  });

  it('the last attempt fails the task even when retryable', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {}, maxAttempts: 2 });
    let [c] = await store.claim({ workerId: 'w' });
    let t = await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'first' });
    expect(t.status).toBe('QUEUED');
    clock.t = t.runAfter;
    [c] = await store.claim({ workerId: 'w' });
    expect(c!.task.attempts).toBe(2);
    t = await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'second' });
    expect(t).toMatchObject({ status: 'FAILED', attempts: 2, errorMessage: 'second' });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'RETRY_SCHEDULED', 'CLAIMED', 'FAILED']);
    clock.advance(3_600_000);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
  });

  it('fail validates the error message and retryAfterSeconds', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    await expectError(store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: '' }), 'VALIDATION');
    await expectError(store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'x', retryAfterSeconds: -1 }), 'VALIDATION');
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');
  });
});

describe('completeMany', () => {
  it('completes a batch in one transaction', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 3 }, () => ({ type: 'job', payload: {} })));
    const claimed = await store.claim({ workerId: 'w', limit: 3 });
    const done = await store.completeMany(claimed.map((c, i) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: i })));
    expect(done.map((t) => [t.status, t.result])).toEqual([
      ['SUCCEEDED', 0],
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 2],
    ]);
  });

  it('one bad token applies none of them', async () => {
    const { store, events } = await makeStore();
    await store.enqueueMany(Array.from({ length: 3 }, () => ({ type: 'job', payload: {} })));
    const claimed = await store.claim({ workerId: 'w', limit: 3 });
    const eventCount = events.length;
    const lastId = await store.lastEventId();
    await expectError(
      store.completeMany([
        { taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken },
        { taskId: claimed[1]!.task.id, leaseToken: WRONG },
        { taskId: claimed[2]!.task.id, leaseToken: claimed[2]!.leaseToken },
      ]),
      'LEASE_LOST',
    );
    expect(await store.countTasks({ status: ['RUNNING'] })).toBe(3);
    expect(await store.countTasks({ status: ['SUCCEEDED'] })).toBe(0);
    expect(events.length).toBe(eventCount);
    expect(await store.lastEventId()).toBe(lastId);
    // The good tokens still work afterwards.
    await store.completeMany([claimed[0]!, claimed[2]!].map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    expect(await store.countTasks({ status: ['SUCCEEDED'] })).toBe(2);
  });
});

describe('failMany', () => {
  it('ends every attempt of a batch in one transaction, each as fail would: a retry, a dead letter, a cancel', async () => {
    const { store, taskKinds } = await makeStore();
    await store.enqueueMany([
      { type: 'job', payload: {}, maxAttempts: 3 },
      { type: 'job', payload: {}, maxAttempts: 3 },
      { type: 'job', payload: {}, maxAttempts: 3 },
    ]);
    const claimed = await store.claim({ workerId: 'w', limit: 3 });
    await store.cancel(claimed[2]!.task.id, 'not needed');
    const done = await store.failMany([
      { taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken, error: 'try again', retryAfterSeconds: 10 },
      { taskId: claimed[1]!.task.id, leaseToken: claimed[1]!.leaseToken, error: 'for good', retryable: false },
      { taskId: claimed[2]!.task.id, leaseToken: claimed[2]!.leaseToken, error: 'stopped' },
    ]);
    expect(done.map((t) => [t.id, t.status, t.errorMessage])).toEqual([
      [claimed[0]!.task.id, 'QUEUED', 'try again'],
      [claimed[1]!.task.id, 'FAILED', 'for good'],
      [claimed[2]!.task.id, 'CANCELLED', 'cancelled: stopped'],
    ]);
    expect(done[0]!.runAfter).toBe(T0 + 10_000);
    expect(taskKinds().filter((k) => k === 'FAILED' || k === 'RETRY_SCHEDULED' || k === 'CANCELLED')).toHaveLength(3);
  });

  it('one lost lease ends none of them; a bad input stores nothing', async () => {
    const { store, events } = await makeStore();
    await store.enqueueMany(Array.from({ length: 2 }, () => ({ type: 'job', payload: {} })));
    const claimed = await store.claim({ workerId: 'w', limit: 2 });
    const eventCount = events.length;
    await expectError(
      store.failMany([
        { taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken, error: 'x' },
        { taskId: claimed[1]!.task.id, leaseToken: WRONG, error: 'x' },
      ]),
      'LEASE_LOST',
    );
    await expectError(
      store.failMany([
        { taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken, error: 'x' },
        { taskId: claimed[1]!.task.id, leaseToken: claimed[1]!.leaseToken, error: 'x', retryAfterSeconds: -1 },
      ]),
      'VALIDATION',
    );
    expect(await store.countTasks({ status: ['RUNNING'] })).toBe(2);
    expect(events.length).toBe(eventCount);
    expect(await store.failMany([])).toEqual([]);
  });
});

describe('release', () => {
  it('gives tasks that never started back: QUEUED in their old place, the attempt uncounted, a RELEASED event each', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const { task: first } = await store.enqueue({ type: 'job', payload: {}, maxAttempts: 1, timeoutSeconds: 60 });
    await store.enqueue({ type: 'job', payload: {} });
    const claimed = await store.claim({ workerId: 'w', limit: 2 });
    clock.advance(100);
    const released = await store.release(claimed.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })));
    expect(released.map((t) => [t.id, t.status, t.attempts, t.leaseUntil, t.updatedAt])).toEqual(
      claimed.map((c) => [c.task.id, 'QUEUED', 0, null, T0 + 100]),
    );
    expect(taskKinds()).toEqual(['ENQUEUED', 'ENQUEUED', 'CLAIMED', 'CLAIMED', 'RELEASED', 'RELEASED']);
    // The old lease is dead; the first task comes back first, and its only attempt is still to run.
    await expectError(store.complete({ taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken }), 'LEASE_LOST');
    const [again] = await store.claim({ workerId: 'w2' });
    expect(again!.task).toMatchObject({ id: first.id, attempts: 1, status: 'RUNNING' });
    await store.fail({ taskId: first.id, leaseToken: again!.leaseToken, error: 'boom' });
    expect((await store.getTask(first.id))?.status).toBe('FAILED'); // maxAttempts 1: the release did not use it up
  });

  it('skips leases that are no longer current, and cancels a task whose cancel was asked', async () => {
    const { store, taskKinds } = await makeStore();
    await store.enqueueMany(Array.from({ length: 3 }, () => ({ type: 'job', payload: {} })));
    const [a, b, c] = await store.claim({ workerId: 'w', limit: 3 });
    await store.complete({ taskId: a!.task.id, leaseToken: a!.leaseToken });
    await store.cancel(b!.task.id, 'not needed');
    const released = await store.release([a!, b!, c!].map((x) => ({ taskId: x.task.id, leaseToken: x.leaseToken })).concat({ taskId: c!.task.id, leaseToken: WRONG }));
    expect(released.map((t) => [t.id, t.status])).toEqual([
      [b!.task.id, 'CANCELLED'],
      [c!.task.id, 'QUEUED'],
    ]);
    expect((await store.getTask(a!.task.id))?.status).toBe('SUCCEEDED');
    expect(taskKinds().slice(-2)).toEqual(['CANCELLED', 'RELEASED']);
    expect(await store.release([])).toEqual([]);
  });

  it("refuses another worker's lease: nothing is given back", async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store, {});
    expect(await store.release([{ taskId: c.task.id, leaseToken: c.leaseToken, holder: 'someone-else' }])).toEqual([]);
    expect((await store.getTask(c.task.id))?.status).toBe('RUNNING');
  });
});

describe('cancel', () => {
  it('cancels a QUEUED task at once', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    clock.advance(50);
    const t = await store.cancel(task.id, 'not needed');
    expect(t).toMatchObject({ status: 'CANCELLED', finishedAt: T0 + 50, errorMessage: 'not needed' });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CANCELLED']);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
  });

  it('cancels a BLOCKED task at once', async () => {
    const { store } = await makeStore();
    const { task: dep } = await store.enqueue({ type: 'job', payload: {} });
    const { task } = await store.enqueue({ type: 'job', payload: {}, dependsOn: [dep.id] });
    expect(task.status).toBe('BLOCKED');
    expect((await store.cancel(task.id)).status).toBe('CANCELLED');
    expect((await store.getTask(dep.id))?.status).toBe('QUEUED');
  });

  it('a RUNNING task gets cancelRequested and a CANCEL_REQUESTED event, then CANCELLED when its worker fails it', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store, { maxAttempts: 5 });
    const requested = await store.cancel(c.task.id, 'stop please');
    expect(requested).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'CANCEL_REQUESTED']);
    // Asking twice changes nothing.
    expect((await store.cancel(c.task.id)).cancelRequested).toBe(true);
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'CANCEL_REQUESTED']);
    clock.advance(10);
    // The worker acknowledges with a retryable failure: still no retry.
    const t = await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'stopped' });
    expect(t).toMatchObject({ status: 'CANCELLED', finishedAt: T0 + 10 });
    expect(t.errorMessage).toContain('stopped');
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'CANCEL_REQUESTED', 'CANCELLED']);
    clock.advance(3_600_000);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
  });

  it('a RUNNING task with cancelRequested becomes CANCELLED when its lease lapses', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store, { maxAttempts: 5 }, 'w1', 10);
    await store.cancel(c.task.id);
    clock.advance(10_001);
    const swept = await store.sweep();
    expect(swept.expired).toBe(1);
    expect(await store.getTask(c.task.id)).toMatchObject({ status: 'CANCELLED', finishedAt: T0 + 10_001, attempts: 1 });
    expect(taskKinds()).toEqual(['ENQUEUED', 'CLAIMED', 'CANCEL_REQUESTED', 'LEASE_EXPIRED', 'CANCELLED']);
  });

  it.each(['SUCCEEDED', 'FAILED', 'CANCELLED'] as const)('a %s task cannot be cancelled (INVALID_STATE)', async (status) => {
    const { store, probe } = await makeStore();
    const c = await enqueueAndClaim(store);
    if (status === 'SUCCEEDED') await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
    if (status === 'FAILED') await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'x', retryable: false });
    if (status === 'CANCELLED') {
      await store.cancel(c.task.id);
      await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'x' });
    }
    const before = await probe.taskRecord(c.task.id);
    expect(before).not.toBeNull();
    expect((await store.getTask(c.task.id))!.status).toBe(status);
    const err = await expectError(store.cancel(c.task.id), 'INVALID_STATE');
    expect(err.details?.status).toBe(status);
    expect(await probe.taskRecord(c.task.id)).toEqual(before);
  });

  it('an unknown task is NOT_FOUND', async () => {
    const { store } = await makeStore();
    await expectError(store.cancel(12345), 'NOT_FOUND');
    await expectError(store.cancel(0), 'VALIDATION');
  });
});

describe('retry', () => {
  it('puts a FAILED task back in the queue with attempts reset', async () => {
    const { store, clock, taskKinds } = await makeStore();
    const c = await enqueueAndClaim(store, { maxAttempts: 1 });
    await store.reportProgress({ taskId: c.task.id, leaseToken: c.leaseToken, progress: 0.5 });
    await store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'boom' });
    expect((await store.getTask(c.task.id))?.status).toBe('FAILED');
    clock.advance(1_000);
    const t = await store.retry(c.task.id);
    expect(t).toMatchObject({
      status: 'QUEUED',
      attempts: 0,
      runAfter: T0 + 1_000,
      finishedAt: null,
      errorMessage: null,
      progress: null,
      lockedBy: null,
      leaseUntil: null,
      cancelRequested: false,
    });
    expect(taskKinds().at(-1)).toBe('REQUEUED');
    const [again] = await store.claim({ workerId: 'w2' });
    expect(again!.task).toMatchObject({ id: c.task.id, attempts: 1 });
  });

  it('puts a CANCELLED task back in the queue', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    await store.cancel(task.id);
    expect((await store.retry(task.id)).status).toBe('QUEUED');
  });

  it.each(['QUEUED', 'RUNNING', 'SUCCEEDED', 'BLOCKED'] as const)('a %s task cannot be retried (INVALID_STATE)', async (status) => {
    const { store, probe } = await makeStore();
    const { task: first } = await store.enqueue({ type: 'job', payload: {} });
    let id = first.id;
    if (status === 'RUNNING' || status === 'SUCCEEDED') {
      const [c] = await store.claim({ workerId: 'w' });
      if (status === 'SUCCEEDED') await store.complete({ taskId: id, leaseToken: c!.leaseToken });
    }
    if (status === 'BLOCKED') id = (await store.enqueue({ type: 'job', payload: {}, dependsOn: [first.id] })).task.id;
    const before = await probe.taskRecord(id);
    expect(before).not.toBeNull();
    expect((await store.getTask(id))!.status).toBe(status);
    const err = await expectError(store.retry(id), 'INVALID_STATE');
    expect(err.details?.status).toBe(status);
    expect(await probe.taskRecord(id)).toEqual(before);
  });

  it('an unknown task is NOT_FOUND', async () => {
    const { store } = await makeStore();
    await expectError(store.retry(777), 'NOT_FOUND');
  });
});

describe('appendLog', () => {
  it('adds a log line with or without a lease token', async () => {
    const { store, clock, events } = await makeStore();
    const c = await enqueueAndClaim(store);
    clock.advance(5);
    const a = await store.appendLog({ taskId: c.task.id, level: 'INFO', message: 'started', details: { step: 1 }, leaseToken: c.leaseToken });
    const b = await store.appendLog({ taskId: c.task.id, level: 'WARN', message: 'from an operator' });
    expect(a).toMatchObject({ taskId: c.task.id, level: 'INFO', message: 'started', details: { step: 1 }, at: T0 + 5 });
    expect(b.id).toBeGreaterThan(a.id);
    expect(await store.getLog(a.id)).toEqual(a);
    const logEvents = events.filter((e) => e.kind === 'LOG_ADDED');
    expect(logEvents.map((e) => [e.taskId, e.logId])).toEqual([
      [c.task.id, a.id],
      [c.task.id, b.id],
    ]);
  });

  it('a wrong lease token is LEASE_LOST and writes nothing', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    await expectError(store.appendLog({ taskId: c.task.id, level: 'INFO', message: 'x', leaseToken: WRONG }), 'LEASE_LOST');
    expect((await store.listLogs(c.task.id)).items).toEqual([]);
  });

  it('a token of a finished task is LEASE_LOST', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
    await expectError(store.appendLog({ taskId: c.task.id, level: 'INFO', message: 'late', leaseToken: c.leaseToken }), 'LEASE_LOST');
  });

  it('rejects an unknown task, level or an empty message', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    await expectError(store.appendLog({ taskId: 999, level: 'INFO', message: 'x' }), 'NOT_FOUND');
    await expectError(store.appendLog({ taskId: task.id, level: 'LOUD' as never, message: 'x' }), 'VALIDATION');
    await expectError(store.appendLog({ taskId: task.id, level: 'INFO', message: '' }), 'VALIDATION');
    expect((await store.listLogs(task.id)).items).toEqual([]);
  });
});

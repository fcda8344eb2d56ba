/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Ending attempts: a late fail with an old lease token against a new claim, fail and
 * complete against a sweep of the lapsed lease, cancel against complete and fail, and two
 * retries of one task.
 */
import { describe, expect, it } from 'vitest';
import type { TestStore } from '../helpers/drivers.js';
import { codeOf, count, inRounds, outbox, race, valueOf } from './race.js';

const LEASE_MS = 10_000;

/** A fresh task claimed on store a for LEASE_MS (and a timeout of 60 s). */
async function runningOnA(a: TestStore, round: number, maxAttempts = 5) {
  const { task } = await a.store.enqueue({ type: `job-${round}`, payload: {}, maxAttempts, timeoutSeconds: 60 });
  const [c] = await a.store.claim({ workerId: 'wa', types: [task.type], leaseSeconds: LEASE_MS / 1000 });
  expect(c!.task.id).toBe(task.id);
  return c!;
}

describe('a stale lease against a new attempt', () => {
  it('a late fail with the old token while the other store claims the task again: LEASE_LOST, the new attempt untouched', async () => {
    await inRounds({}, async ({ a, b, clock }, round) => {
      const old = await runningOnA(a, round);
      clock.advance(LEASE_MS + 1);
      expect((await b.store.sweep()).expired).toBe(1); // attempt 1 ended; the task is QUEUED again
      const mark = await a.store.lastEventId();
      const [failed, claimed] = await race(
        round,
        () => a.store.fail({ taskId: old.task.id, leaseToken: old.leaseToken, error: 'late', retryable: true, retryAfterSeconds: 0 }),
        () => b.store.claim({ workerId: 'wb', types: [old.task.type], leaseSeconds: 30 }),
      );
      // Broken (the fail matched the task but not the attempt), attempt 2 would be ended
      // under its new holder, or attempt 1's failure recorded a second time.
      expect(codeOf(failed), `round ${round}`).toBe('LEASE_LOST');
      const [fresh] = valueOf(claimed);
      expect(fresh!.task).toMatchObject({ id: old.task.id, attempts: 2, lockedBy: 'wb' });
      expect(fresh!.leaseToken).not.toBe(old.leaseToken);
      expect(await a.store.getTask(old.task.id)).toMatchObject({ status: 'RUNNING', attempts: 2, lockedBy: 'wb', leaseUntil: fresh!.leaseUntil, errorMessage: expect.stringMatching(/lease expired/) });
      expect(await a.probe.leaseToken(old.task.id)).toBe(fresh!.leaseToken);
      expect(await a.probe.timeoutAt(old.task.id)).toBe(clock.t + 60_000);
      expect((await outbox(a.store, mark)).filter((e) => e.taskId === old.task.id).map((e) => e.kind)).toEqual(['CLAIMED']);
      // The new holder carries on.
      expect((await b.store.complete({ taskId: old.task.id, leaseToken: fresh!.leaseToken })).status).toBe('SUCCEEDED');
    });
  });
});

describe('ending an attempt against a sweep of its lapsed lease', () => {
  it('fail against sweep: the attempt ends once, by one of them, with one event', async () => {
    const winners = new Set<string>();
    await inRounds({ backoffBaseMs: 0 }, async ({ a, b, clock }, round) => {
      const c = await runningOnA(a, round);
      clock.advance(LEASE_MS + 1); // the lease lapsed, and no sweep has run yet
      const mark = await a.store.lastEventId();
      const [failed, swept] = await race(
        round,
        () => a.store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'gave up', retryable: true, retryAfterSeconds: 0 }),
        () => b.store.sweep(),
      );
      const expired = valueOf(swept).expired;
      // Exactly one of them ended attempt 1.
      if (failed.status === 'fulfilled') {
        expect(expired, `round ${round}`).toBe(0);
        expect(failed.value).toMatchObject({ status: 'QUEUED', errorMessage: 'gave up' });
        winners.add('fail');
      } else {
        expect(codeOf(failed)).toBe('LEASE_LOST');
        expect(expired, `round ${round}`).toBe(1);
        winners.add('sweep');
      }
      const events = await outbox(a.store, mark);
      expect(count(events, 'RETRY_SCHEDULED', c.task.id) + count(events, 'LEASE_EXPIRED', c.task.id)).toBe(1);
      expect(await b.store.getTask(c.task.id)).toMatchObject({ status: 'QUEUED', attempts: 1, leaseUntil: null });
      expect(await b.probe.leaseToken(c.task.id)).toBeNull();
    });
    expect(winners).toEqual(new Set(['fail', 'sweep']));
  });

  it('complete against sweep: SUCCEEDED or requeued, never both', async () => {
    const winners = new Set<string>();
    await inRounds({}, async ({ a, b, clock }, round) => {
      const c = await runningOnA(a, round);
      clock.advance(LEASE_MS + 1);
      const mark = await a.store.lastEventId();
      const [completed, swept] = await race(
        round,
        () => a.store.complete({ taskId: c.task.id, leaseToken: c.leaseToken, result: { round } }),
        () => b.store.sweep(),
      );
      const expired = valueOf(swept).expired;
      const now = (await b.store.getTask(c.task.id))!;
      const events = await outbox(a.store, mark);
      if (completed.status === 'fulfilled') {
        expect(expired, `round ${round}`).toBe(0);
        expect(now).toMatchObject({ status: 'SUCCEEDED', result: { round }, attempts: 1 });
        expect(count(events, 'LEASE_EXPIRED', c.task.id)).toBe(0);
        winners.add('complete');
      } else {
        expect(codeOf(completed)).toBe('LEASE_LOST');
        expect(expired, `round ${round}`).toBe(1);
        expect(now).toMatchObject({ status: 'QUEUED', result: null, attempts: 1 });
        expect(count(events, 'SUCCEEDED', c.task.id)).toBe(0);
        winners.add('sweep');
      }
      expect(count(events, 'SUCCEEDED', c.task.id) + count(events, 'LEASE_EXPIRED', c.task.id)).toBe(1);
    });
    expect(winners).toEqual(new Set(['complete', 'sweep']));
  });
});

describe('cancel against the end of a running attempt', () => {
  it('cancel against complete: exactly one terminal state, SUCCEEDED, with consistent events', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const c = await runningOnA(a, round);
      const mark = await a.store.lastEventId();
      const [completed, cancelled] = await race(
        round,
        () => a.store.complete({ taskId: c.task.id, leaseToken: c.leaseToken }),
        () => b.store.cancel(c.task.id, 'stop'),
      );
      // The work was done: the completion stands whichever came first.
      expect(valueOf(completed).status).toBe('SUCCEEDED');
      expect((await b.store.getTask(c.task.id))!.status).toBe('SUCCEEDED');
      const kinds = (await outbox(a.store, mark)).map((e) => e.kind);
      if (cancelled.status === 'fulfilled') {
        // The cancel came first: a request to the holder, then its completion.
        expect(cancelled.value).toMatchObject({ status: 'RUNNING', cancelRequested: true });
        expect(kinds).toEqual(['CANCEL_REQUESTED', 'SUCCEEDED']);
      } else {
        // The completion came first: a finished task cannot be cancelled.
        expect(codeOf(cancelled)).toBe('INVALID_STATE');
        expect(kinds).toEqual(['SUCCEEDED']);
      }
    });
  });

  it('cancel against a retryable fail: the task ends CANCELLED either way, once, and is not retried', async () => {
    await inRounds({ backoffBaseMs: 0 }, async ({ a, b, clock }, round) => {
      const c = await runningOnA(a, round);
      const mark = await a.store.lastEventId();
      const [failed, cancelled] = await race(
        round,
        () => a.store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'flaky', retryAfterSeconds: 0 }),
        () => b.store.cancel(c.task.id, 'stop'),
      );
      valueOf(failed);
      valueOf(cancelled);
      // Failed first: QUEUED for a retry, then cancelled while waiting. Cancelled first: the
      // request, then the failure acknowledges it. Never QUEUED or RUNNING again.
      expect((await b.store.getTask(c.task.id))!.status, `round ${round}`).toBe('CANCELLED');
      const events = await outbox(a.store, mark);
      expect(count(events, 'CANCELLED', c.task.id)).toBe(1);
      expect(count(events, 'FAILED', c.task.id)).toBe(0);
      clock.advance(1);
      expect(await a.store.claim({ workerId: 'wa', types: [c.task.type] })).toEqual([]);
    });
  });
});

describe('retry against retry', () => {
  it('both stores retry one FAILED task: one REQUEUED, the other refused, attempts reset once', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const c = await runningOnA(a, round, 1);
      await a.store.fail({ taskId: c.task.id, leaseToken: c.leaseToken, error: 'boom' });
      const mark = await a.store.lastEventId();
      const outcomes = await race(
        round,
        () => a.store.retry(c.task.id),
        () => b.store.retry(c.task.id),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled'), `round ${round}`).toHaveLength(1);
      expect(outcomes.map(codeOf).filter(Boolean)).toEqual(['INVALID_STATE']);
      expect(await b.store.getTask(c.task.id)).toMatchObject({ status: 'QUEUED', attempts: 0, errorMessage: null });
      expect((await outbox(a.store, mark)).map((e) => [e.kind, e.taskId])).toEqual([['REQUEUED', c.task.id]]);
    });
  });
});

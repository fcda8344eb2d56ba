/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Unblocking: a task with two dependencies, which finish at once, one on each store.
 */
import { describe, expect, it } from 'vitest';
import type { LeaseRef, Task, TaskStore } from '../../src/store/index.js';
import { count, inRounds, outbox, race, valueOf, type Pair } from './race.js';

/**
 * A child of two fresh dependencies, the first claimed on store a and the second on
 * store b; then store a completes the first while store b ends the second with `end`.
 */
async function finishBoth(pair: Pair, round: number, end: (store: TaskStore, ref: LeaseRef) => Promise<Task>) {
  const { a, b } = pair;
  const claimOn = async (store: TaskStore, type: string, workerId: string) => {
    const { task } = await store.enqueue({ type, payload: {} });
    const [c] = await store.claim({ workerId, types: [type] });
    expect(c!.task.id).toBe(task.id);
    return c!;
  };
  const first = await claimOn(a.store, `left-${round}`, 'wa');
  const second = await claimOn(b.store, `right-${round}`, 'wb');
  const { task: child } = await a.store.enqueue({ type: `join-${round}`, payload: {}, dependsOn: [first.task.id, second.task.id] });
  expect(child.status).toBe('BLOCKED');
  const mark = await a.store.lastEventId();
  const outcomes = await race(
    round,
    () => a.store.complete({ taskId: first.task.id, leaseToken: first.leaseToken }),
    () => end(b.store, { taskId: second.task.id, leaseToken: second.leaseToken }),
  );
  return { child, second: second.task, ended: outcomes.map((o) => valueOf(o).status), events: await outbox(a.store, mark) };
}

describe('a task whose two dependencies finish at once, on the two stores', () => {
  it('both succeed: the child is QUEUED exactly once (one UNBLOCKED event across both stores)', async () => {
    await inRounds({}, async (pair, round) => {
      const { child, ended, events } = await finishBoth(pair, round, (store, ref) => store.complete(ref));
      expect(ended).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      // Broken (write skew: each saw the other dependency unfinished), the child would stay
      // BLOCKED with no UNBLOCKED event; or both would unblock it, with two.
      expect((await pair.b.store.getTask(child.id))!.status, `round ${round}`).toBe('QUEUED');
      expect(count(events, 'UNBLOCKED', child.id)).toBe(1);
      expect(count(events, 'UNBLOCKED')).toBe(1);
      expect(count(events, 'SUCCEEDED')).toBe(2);
      expect((await pair.a.store.claim({ workerId: 'wa', types: [child.type] })).map((c) => c.task.id)).toEqual([child.id]);
    });
  });

  it('one succeeds while the other fails for good: the child is CANCELLED once and never unblocked', async () => {
    await inRounds({}, async (pair, round) => {
      const { child, second, ended, events } = await finishBoth(pair, round, (store, ref) =>
        store.fail({ ...ref, error: 'broken', retryable: false }),
      );
      expect(ended).toEqual(['SUCCEEDED', 'FAILED']);
      const now = (await pair.a.store.getTask(child.id))!;
      expect(now.status, `round ${round}`).toBe('CANCELLED');
      expect(now.errorMessage).toBe(`dependency ${second.id} FAILED`);
      expect(count(events, 'CANCELLED', child.id)).toBe(1);
      expect(count(events, 'UNBLOCKED', child.id)).toBe(0);
    });
  });
});

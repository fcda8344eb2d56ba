/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Enqueue: the same idempotency key from both stores, and a dependency that finishes on
 * the other store while a task that depends on it is enqueued.
 */
import { describe, expect, it } from 'vitest';
import type { LeaseRef, Task, TaskStatus } from '../../src/store/index.js';
import { ROUNDS, count, inRounds, outbox, race, valueOf, type Pair } from './race.js';

describe('idempotency keys', () => {
  it('both stores enqueue with the same key: one created, both answer with the same task, one row', async () => {
    const { a } = await inRounds({}, async ({ a, b }, round) => {
      const key = `pay-${round}`;
      const mark = await a.store.lastEventId();
      const [ra, rb] = (await race(
        round,
        () => a.store.enqueue({ type: 'charge', payload: { by: 'a' }, idempotencyKey: key }),
        () => b.store.enqueue({ type: 'charge', payload: { by: 'b' }, idempotencyKey: key }),
      )).map(valueOf);
      // Broken, both would say created (two rows, or one CONFLICT error instead of an answer).
      expect([ra!.created, rb!.created].filter(Boolean), `round ${round}`).toHaveLength(1);
      expect(ra!.task.id).toBe(rb!.task.id);
      const winner = ra!.created ? ra! : rb!;
      const stored = (await b.store.getTask(winner.task.id))!;
      expect(stored).toEqual(winner.task);
      // The other store was answered with the stored task, not with its own input.
      expect((ra!.created ? rb! : ra!).task).toEqual(stored);
      expect(await a.store.countTasks({ idempotencyKey: key })).toBe(1);
      expect((await a.store.getTaskByIdempotencyKey(key))!.id).toBe(stored.id);
      const events = await outbox(a.store, mark);
      expect(events.map((e) => [e.kind, e.taskId])).toEqual([['ENQUEUED', stored.id]]);
    });
    expect(await a.store.countTasks()).toBe(ROUNDS);
  });

  it('two batches with the same keys in crossed order: one task per key, each batch answered in its own order', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const [k1, k2] = [`x-${round}`, `y-${round}`];
      const mark = await a.store.lastEventId();
      const [ra, rb] = (await race(
        round,
        () => a.store.enqueueMany([{ type: 'x', payload: {}, idempotencyKey: k1 }, { type: 'y', payload: {}, idempotencyKey: k2 }]),
        () => b.store.enqueueMany([{ type: 'y', payload: {}, idempotencyKey: k2 }, { type: 'x', payload: {}, idempotencyKey: k1 }]),
      )).map(valueOf);
      expect(ra!.map((r) => r.task.idempotencyKey)).toEqual([k1, k2]);
      expect(rb!.map((r) => r.task.idempotencyKey)).toEqual([k2, k1]);
      // Per key: the same id from both batches, created by exactly one of them.
      expect(ra![0]!.task.id).toBe(rb![1]!.task.id);
      expect(ra![1]!.task.id).toBe(rb![0]!.task.id);
      expect([ra![0]!.created, rb![1]!.created].filter(Boolean)).toHaveLength(1);
      expect([ra![1]!.created, rb![0]!.created].filter(Boolean)).toHaveLength(1);
      expect(await b.store.countTasks({ idempotencyKey: k1 })).toBe(1);
      expect(await b.store.countTasks({ idempotencyKey: k2 })).toBe(1);
      expect(count(await outbox(a.store, mark), 'ENQUEUED')).toBe(2);
    });
  });
});

/**
 * Store a enqueues a child of a parent that store b holds, while store b ends the parent
 * with `end`; returns the child as enqueued and the parent as ended.
 */
async function childWhileParentEnds({ a, b }: Pair, round: number, end: (ref: LeaseRef) => Promise<Task>) {
  const { task: parent } = await b.store.enqueue({ type: `parent-${round}`, payload: {} });
  const [held] = await b.store.claim({ workerId: 'wb', types: [parent.type] });
  const [enqueued, ended] = await race(
    round,
    () => a.store.enqueue({ type: `child-${round}`, payload: {}, dependsOn: [parent.id] }),
    () => end({ taskId: parent.id, leaseToken: held!.leaseToken }),
  );
  return { parent: valueOf(ended), child: valueOf(enqueued).task };
}

describe('enqueue with a dependency while the dependency finishes on the other store', () => {
  it('the dependency completes: the child ends QUEUED, never stuck BLOCKED, unblocked at most once', async () => {
    const enqueuedAs = new Set<TaskStatus>();
    await inRounds({}, async (pair, round) => {
      const { a, b } = pair;
      const { parent, child } = await childWhileParentEnds(pair, round, (ref) => b.store.complete(ref));
      expect(parent.status).toBe('SUCCEEDED');
      enqueuedAs.add(child.status);
      // Broken (the enqueue read the parent as RUNNING, the completion did not see the new
      // edge), the child would stay BLOCKED for ever.
      expect((await a.store.getTask(child.id))!.status, `round ${round}`).toBe('QUEUED');
      const unblocked = count(await outbox(b.store), 'UNBLOCKED', child.id);
      expect(unblocked).toBe(child.status === 'BLOCKED' ? 1 : 0);
      if (child.status !== 'BLOCKED') expect(child.status).toBe('QUEUED');
      expect((await b.store.claim({ workerId: 'wb', types: [child.type] })).map((c) => c.task.id)).toEqual([child.id]);
    });
    // Both orders happened: the race is not decided the same way every time.
    expect(enqueuedAs).toEqual(new Set(['BLOCKED', 'QUEUED']));
  });

  it('the dependency fails for good: the child ends CANCELLED, once, with its log line', async () => {
    const enqueuedAs = new Set<TaskStatus>();
    await inRounds({}, async (pair, round) => {
      const { a, b } = pair;
      const { parent, child } = await childWhileParentEnds(pair, round, (ref) => b.store.fail({ ...ref, error: 'broken', retryable: false }));
      expect(parent.status).toBe('FAILED');
      enqueuedAs.add(child.status);
      const now = (await a.store.getTask(child.id))!;
      expect(now.status, `round ${round}`).toBe('CANCELLED');
      expect(now.errorMessage).toContain(`dependency ${parent.id}`);
      expect(count(await outbox(b.store), 'CANCELLED', child.id)).toBe(1);
      expect((await a.store.listLogs(child.id)).items).toHaveLength(1);
    });
    expect(enqueuedAs).toEqual(new Set(['BLOCKED', 'CANCELLED']));
  });
});

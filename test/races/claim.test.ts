/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Claiming: both stores claim from the same queued tasks, under concurrency limits, and
 * while the task is cancelled on the other store.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimedTask } from '../../src/store/index.js';
import { count, inRounds, outbox, race, valueOf } from './race.js';

const idsOf = (claimed: readonly ClaimedTask[]) => claimed.map((c) => c.task.id);

describe('claim against claim', () => {
  it('no task is claimed twice: the claims split the queued tasks, each with its own lease', async () => {
    await inRounds({}, async ({ a, b, clock }, round) => {
      const type = `t-${round}`;
      const queued = await a.store.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ type, payload: { i }, priority: i % 3 })));
      const mark = await a.store.lastEventId();
      const strategy = (['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const)[round % 4];
      const [ca, cb] = (await race(
        round,
        () => a.store.claim({ workerId: 'wa', types: [type], limit: 8, strategy }),
        () => b.store.claim({ workerId: 'wb', types: [type], limit: 8, strategy }),
      )).map(valueOf);
      const both = [...idsOf(ca!), ...idsOf(cb!)];
      // Broken, a task would be in both answers (and its first holder's token overwritten).
      expect(new Set(both).size, `round ${round}`).toBe(both.length);
      expect(both.sort((x, y) => x - y)).toEqual(queued.map((q) => q.task.id).sort((x, y) => x - y));
      for (const [claimed, workerId] of [
        [ca!, 'wa'],
        [cb!, 'wb'],
      ] as const) {
        for (const c of claimed) {
          expect(await b.probe.leaseToken(c.task.id)).toBe(c.leaseToken);
          expect(await a.store.getTask(c.task.id)).toMatchObject({ status: 'RUNNING', lockedBy: workerId, attempts: 1, leaseUntil: c.leaseUntil });
        }
      }
      const events = await outbox(a.store, mark);
      for (const id of both) expect(count(events, 'CLAIMED', id)).toBe(1);
      clock.advance(1_000);
    });
  });
});

describe('concurrency limits under two claiming stores', () => {
  it('a queue-wide limit of 3: RUNNING never exceeds 3, and a slot freed on one store is taken once', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const queue = `q-${round}`;
      await a.store.enqueueMany(Array.from({ length: 8 }, (_, i) => ({ type: i % 2 ? 'odd' : 'even', queue, payload: { i } })));
      await b.store.setConcurrencyLimit({ queue, type: null, limit: 3 });
      const running = () => a.store.countTasks({ queue, status: ['RUNNING'] });
      const [ca, cb] = (await race(
        round,
        () => a.store.claim({ workerId: 'wa', queue, limit: 3 }),
        () => b.store.claim({ workerId: 'wb', queue, limit: 3 }),
      )).map(valueOf);
      // Broken (both read the same free slots), up to 6 would run.
      expect(ca!.length + cb!.length, `round ${round}`).toBe(3);
      expect(await running()).toBe(3);

      // At the limit: one store completes a task while the other claims.
      const [done] = [...ca!, ...cb!];
      const [completed, more] = await race(
        round,
        () => a.store.complete({ taskId: done!.task.id, leaseToken: done!.leaseToken }),
        () => b.store.claim({ workerId: 'wb', queue, limit: 3 }),
      );
      expect(valueOf(completed).status).toBe('SUCCEEDED');
      expect(valueOf(more).length).toBeLessThanOrEqual(1);
      expect(await running()).toBe(2 + valueOf(more).length);
      expect(await running()).toBeLessThanOrEqual(3);
    });
  });

  it('a per-type limit of 2: that type never exceeds 2 RUNNING while other types fill the claims', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const queue = `m-${round}`;
      await a.store.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ type: i % 2 ? 'heavy' : 'light', queue, payload: { i } })));
      await a.store.setConcurrencyLimit({ queue, type: 'heavy', limit: 2 });
      const [ca, cb] = (await race(
        round,
        () => a.store.claim({ workerId: 'wa', queue, limit: 5, strategy: 'FIFO' }),
        () => b.store.claim({ workerId: 'wb', queue, limit: 5, strategy: 'FIFO' }),
      )).map(valueOf);
      const claimed = [...ca!, ...cb!];
      expect(claimed.filter((c) => c.task.type === 'heavy'), `round ${round}`).toHaveLength(2);
      expect(await b.store.countTasks({ queue, type: ['heavy'], status: ['RUNNING'] })).toBe(2);
      // The limit holds heavy back, not the claims: 2 heavy and 6 light fill 8 of the 10 asked.
      expect(claimed).toHaveLength(8);
      expect(await b.store.countTasks({ queue, status: ['RUNNING'] })).toBe(8);
    });
  });
});

describe('claim against cancel', () => {
  it('a QUEUED task cancelled on one store while the other claims: CANCELLED and unclaimed, or claimed with cancelRequested', async () => {
    const outcomes = new Set<string>();
    await inRounds({}, async ({ a, b }, round) => {
      const { task } = await a.store.enqueue({ type: `c-${round}`, payload: {} });
      const mark = await a.store.lastEventId();
      const [cancelled, claimed] = await race(
        round,
        () => a.store.cancel(task.id, 'not needed'),
        () => b.store.claim({ workerId: 'wb', types: [task.type] }),
      );
      const c = valueOf(claimed);
      const t = valueOf(cancelled);
      const now = (await b.store.getTask(task.id))!;
      const events = (await outbox(a.store, mark)).filter((e) => e.kind !== 'WORKER_UPDATED').map((e) => e.kind);
      if (c.length === 0) {
        // The cancel came first: nobody may run the task.
        expect(t.status).toBe('CANCELLED');
        expect(now.status).toBe('CANCELLED');
        expect(events).toEqual(['CANCELLED']);
      } else {
        // The claim came first: the holder is asked to stop; the task is not CANCELLED under it.
        expect(idsOf(c)).toEqual([task.id]);
        expect(t).toMatchObject({ status: 'RUNNING', cancelRequested: true });
        expect(now).toMatchObject({ status: 'RUNNING', cancelRequested: true, lockedBy: 'wb' });
        expect(events).toEqual(['CLAIMED', 'CANCEL_REQUESTED']);
        const hb = await b.store.heartbeat({ workerId: 'wb', leases: [{ taskId: task.id, leaseToken: c[0]!.leaseToken }] });
        expect(hb.leases[0]).toMatchObject({ lost: false, cancelRequested: true });
      }
      outcomes.add(now.status);
    });
    expect(outcomes).toEqual(new Set(['CANCELLED', 'RUNNING']));
  });
});

describe('a new worker registering on both stores at once', () => {
  it('is announced once: one WORKER_UPDATED, whichever store registers it first', async () => {
    await inRounds({}, async ({ a, b }, round) => {
      const workerId = `fresh-${round}`;
      const mark = await a.store.lastEventId();
      const [ca, cb] = (await race(
        round,
        () => a.store.claim({ workerId, types: [`none-${round}`] }),
        () => b.store.claim({ workerId, types: [`none-${round}`] }),
      )).map(valueOf);
      expect([ca, cb]).toEqual([[], []]);
      // Broken (each read the worker as unknown before the other's insert), it would be announced twice.
      const announced = (await outbox(a.store, mark)).filter((e) => e.kind === 'WORKER_UPDATED' && e.workerId === workerId);
      expect(announced, `round ${round}`).toHaveLength(1);
      expect(await a.store.getWorker(workerId)).toMatchObject({ id: workerId, status: 'ACTIVE' });
    });
  });
});

/**
 * Race suite (driver-neutral): two stores on one database race each other; every round
 * starts both operations before awaiting either, on fresh tasks, and checks the outcome
 * users are promised. On SQLite the writers are serialized by BEGIN IMMEDIATE, so these
 * races check the promised outcome under any interleaving of whole transactions; on
 * PostgreSQL the same suite exercises true concurrency.
 *
 * Sweeps: both stores sweep the same lapsed lease, the same timed-out attempt and the
 * same silent workers at the same instant.
 */
import { describe, expect, it } from 'vitest';
import { count, inRounds, outbox, race, valueOf } from './race.js';

describe('sweep against sweep', () => {
  it('each lapsed lease, timed-out attempt and quiet worker is swept once: the counts add up, one event each', async () => {
    await inRounds({ staleWorkerAfterMs: 5_000 }, async ({ a, b, clock }, round) => {
      const idle = `idle-${round}`;
      await b.store.heartbeat({ workerId: idle });
      const { task: lapsing } = await a.store.enqueue({ type: `lapse-${round}`, payload: {}, maxAttempts: 3 });
      const { task: late } = await a.store.enqueue({ type: `late-${round}`, payload: {}, maxAttempts: 3, timeoutSeconds: 5 });
      await a.store.claim({ workerId: `wa-${round}`, types: [lapsing.type], leaseSeconds: 10 });
      await b.store.claim({ workerId: `wb-${round}`, types: [late.type], leaseSeconds: 600 });
      clock.advance(10_001); // lapsing's lease lapsed, late's deadline passed, every ACTIVE worker went quiet
      const quiet = (await a.store.listWorkers(['ACTIVE'])).map((w) => w.id).sort();
      expect(quiet).toEqual(expect.arrayContaining([idle, `wa-${round}`, `wb-${round}`]));
      const mark = await a.store.lastEventId();

      const [sa, sb] = (await race(round, () => a.store.sweep(), () => b.store.sweep())).map(valueOf);
      // Broken (both ended what both read), the sums would be 2 and the events doubled.
      expect(sa!.expired + sb!.expired, `round ${round}`).toBe(1);
      expect(sa!.timedOut + sb!.timedOut, `round ${round}`).toBe(1);
      expect(sa!.staleWorkers + sb!.staleWorkers, `round ${round}`).toBe(quiet.length);
      const events = await outbox(a.store, mark);
      expect(count(events, 'LEASE_EXPIRED', lapsing.id)).toBe(1);
      expect(count(events, 'TIMED_OUT', late.id)).toBe(1);
      expect(count(events, 'RETRY_SCHEDULED', late.id)).toBe(1);
      expect(events.filter((e) => e.kind === 'WORKER_UPDATED').map((e) => e.workerId!).sort()).toEqual(quiet);
      for (const id of [lapsing.id, late.id]) expect(await b.store.getTask(id)).toMatchObject({ status: 'QUEUED', attempts: 1 });
      expect(await a.store.listWorkers(['ACTIVE'])).toEqual([]);

      // The attempts were counted once: the next claim is attempt 2 of each.
      clock.advance(3_600_000);
      const again = await b.store.claim({ workerId: 'wz', types: [lapsing.type, late.type], limit: 2 });
      expect(again.map((c) => c.task.attempts)).toEqual([2, 2]);
      for (const c of again) await b.store.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
    });
  });
});

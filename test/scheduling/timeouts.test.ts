/**
 * A timeout firing while the worker keeps heartbeating: sweep() fails the attempt with
 * TIMED_OUT, the retry rules apply, and the worker's late calls get LEASE_LOST. First on
 * the engine with an injected clock moved in 200 ms heartbeat steps, then over a real
 * server (sweep tick 100 ms, real clock) with a taskEvents subscriber over graphql-ws.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, makeApp, stopApps, wsClient } from '../helpers/app.js';
import { expectError } from '../helpers/store.js';
import { Clock, at, openStore, until } from './harness.js';

afterEach(stopApps);

const kindsOf = (events: { kind: string }[]) => events.map((e) => e.kind).filter((k) => k !== 'LOG_ADDED' && k !== 'WORKER_UPDATED');

describe('timeouts on the engine (injected clock)', () => {
  it('heartbeats every 200 ms do not stop a 1 s timeout; the attempt is retried, then FAILED when attempts run out', async () => {
    const T0 = at('2026-02-01T00:00:00Z');
    const clock = new Clock(T0);
    const store = openStore(':memory:', clock, { backoffBaseMs: 1000 });
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
    const store = openStore(':memory:', clock, { backoffBaseMs: 1000, random: () => 0 });
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

describe('timeouts over the real server', () => {
  it('sweep ticks every 100 ms: TIMED_OUT reaches a taskEvents subscriber while the worker heartbeats, and its completion gets LEASE_LOST', async () => {
    const t = makeApp({ sweepIntervalMs: 100, store: { backoffBaseMs: 50 } });
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const before = t.store.bus.listenerCount;
    const sub = collect(client, `subscription { taskEvents(filter: { type: ["slow"] }) { kind task { id status attempts errorMessage } } }`);
    await until(() => t.store.bus.listenerCount > before, 'the subscription to go live');

    const enq = await t.ok(`mutation { enqueueTask(input: { type: "slow", payload: {}, timeoutSeconds: 1, maxAttempts: 2 }) { task { id } } }`);
    const id = enq.enqueueTask.task.id as string;
    const claimQ = `mutation { claimTasks(input: { workerId: "w1", types: ["slow"], leaseSeconds: 5 }) { leaseToken task { id attempts } } }`;
    const [c] = (await t.ok(claimQ)).claimTasks;
    expect(c.task).toEqual({ id, attempts: 1 });
    const lease = { taskId: id, leaseToken: c.leaseToken };

    // The worker heartbeats every 200 ms, and goes on after the timeout until it learns the lease is lost.
    const beats: { lost: boolean; at: number }[] = [];
    const started = Date.now();
    let stop = false;
    const heartbeating = (async () => {
      while (!stop) {
        const hb = await t.ok(`mutation($l: [LeaseInput!]) { heartbeat(input: { workerId: "w1", leases: $l, extendSeconds: 5 }) { leases { lost } } }`, {
          l: [lease],
        });
        beats.push({ lost: hb.heartbeat.leases[0].lost, at: Date.now() - started });
        if (hb.heartbeat.leases[0].lost) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    await sub.waitForCount(4, 10_000);
    const rows = sub.results.map((r) => r.data!.taskEvents);
    expect(rows.slice(0, 4).map((r) => r.kind)).toEqual(['ENQUEUED', 'CLAIMED', 'TIMED_OUT', 'RETRY_SCHEDULED']);
    expect(rows[2].task).toMatchObject({ id, errorMessage: 'timed out after 1s' });
    await heartbeating;
    stop = true;
    // It had been heartbeating successfully until the timeout: the lease did not lapse.
    const kept = beats.filter((b) => !b.lost);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(beats.at(-1)!.lost).toBe(true);
    expect(beats.filter((b) => b.lost)).toHaveLength(1);

    const late = await t.gql(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok, result: "late" }) { id } }`, {
      id,
      tok: c.leaseToken,
    });
    expect(late.errors?.[0]?.extensions?.code).toBe('LEASE_LOST');

    // The retry rules apply: the second attempt times out too, and that was the last one.
    const [c2] = await until(async () => {
      const got = (await t.ok(claimQ)).claimTasks;
      return got.length ? got : null;
    }, 'the retry to become claimable');
    expect(c2.task).toEqual({ id, attempts: 2 });
    await sub.waitForCount(7, 10_000);
    expect(sub.results.map((r) => r.data!.taskEvents.kind)).toEqual([
      'ENQUEUED',
      'CLAIMED',
      'TIMED_OUT',
      'RETRY_SCHEDULED',
      'CLAIMED',
      'TIMED_OUT',
      'FAILED',
    ]);
    expect(sub.results[6]!.data!.taskEvents.task).toMatchObject({ status: 'FAILED', attempts: 2, errorMessage: 'timed out after 1s' });
    const again = await t.gql(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok }) { id } }`, {
      id,
      tok: c2.leaseToken,
    });
    expect(again.errors?.[0]?.extensions?.code).toBe('LEASE_LOST');
    expect(sub.errors).toEqual([]);
  });
});

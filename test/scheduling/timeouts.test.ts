/**
 * A timeout firing while the worker keeps heartbeating, over a real server (sweep tick
 * 100 ms, real clock) with a taskEvents subscriber over graphql-ws: TIMED_OUT reaches the
 * subscriber, the retry rules apply, and the worker's late calls get LEASE_LOST. The same
 * on the engine with an injected clock is in test/engine/conformance/timeouts.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, makeApp, stopApps, wsClient } from '../helpers/app.js';
import { until } from './harness.js';

afterEach(stopApps);

describe('timeouts over the real server', () => {
  it('sweep ticks every 100 ms: TIMED_OUT reaches a taskEvents subscriber while the worker heartbeats, and its completion gets LEASE_LOST', async () => {
    const t = await makeApp({ sweepIntervalMs: 100, store: { backoffBaseMs: 50 } });
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

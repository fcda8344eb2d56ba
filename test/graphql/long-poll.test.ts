/**
 * claimTasks with waitSeconds: a long-poll that the bus wakes when work arrives, that
 * returns [] when the wait passes, is capped by maxWaitSeconds, and ends at shutdown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, stopApps, waitFor, wsClient, wsOnce, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

const CLAIM = `mutation($w: String!, $wait: Int, $q: String) {
  claimTasks(input: { workerId: $w, waitSeconds: $wait, queue: $q }) { leaseToken task { id queue type } }
}`;

const gid = (id: number) => Buffer.from(`Task:${id}`).toString('base64');

/** A claim registers its worker before it parks: once the worker exists, the claim is waiting. */
const untilWaiting = (t: TestApp, workerId: string) =>
  waitFor(async () => (await t.store.getWorker(workerId)) !== null, `worker ${workerId}'s claim to be waiting`);

function track<T>(p: Promise<T>) {
  const s = { settled: false, promise: p };
  p.finally(() => (s.settled = true)).catch(() => {});
  return s;
}

describe('claimTasks long-poll', () => {
  it('returns the task as soon as one is enqueued during the wait', async () => {
    const t = await makeApp();
    const claim = track(t.gql(CLAIM, { w: 'lp1', wait: 5 }));
    await untilWaiting(t, 'lp1');
    expect(claim.settled, 'the claim returned before any task existed').toBe(false);
    // Work in another queue does not satisfy it.
    await t.store.enqueue({ type: 'elsewhere', queue: 'other', payload: {} });
    const start = Date.now();
    const { task } = await t.store.enqueue({ type: 'job', payload: {} });
    const r = await claim.promise;
    const elapsed = Date.now() - start;
    expect(r.errors).toBeUndefined();
    expect(r.data.claimTasks).toHaveLength(1);
    expect(r.data.claimTasks[0].task).toEqual({ id: gid(task.id), queue: 'default', type: 'job' });
    expect(r.data.claimTasks[0].leaseToken).toBeTruthy();
    // Well before waitSeconds (5 s) ran out.
    expect(elapsed).toBeLessThan(2500);
  });

  it('is woken by a task that is requeued (retryTask)', async () => {
    const t = await makeApp();
    const { task } = await t.store.enqueue({ type: 'job', payload: {}, maxAttempts: 1 });
    const [c] = await t.store.claim({ workerId: 'first' });
    await t.store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'x' });
    const claim = track(t.gql(CLAIM, { w: 'lp2', wait: 5 }));
    await untilWaiting(t, 'lp2');
    expect(claim.settled).toBe(false);
    const start = Date.now();
    await t.ok(`mutation($id: ID!) { retryTask(id: $id) { status } }`, { id: gid(task.id) });
    const r = await claim.promise;
    expect(Date.now() - start).toBeLessThan(2500);
    expect(r.data.claimTasks.map((x: { task: { id: string } }) => x.task.id)).toEqual([gid(task.id)]);
  });

  it('works over WebSocket too', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const claim = track(wsOnce(client, CLAIM, { w: 'lp3', wait: 5, q: 'media' }));
    await untilWaiting(t, 'lp3');
    expect(claim.settled).toBe(false);
    const start = Date.now();
    const { task } = await t.store.enqueue({ type: 'render', queue: 'media', payload: {} });
    const r = await claim.promise;
    expect(Date.now() - start).toBeLessThan(2500);
    expect(r.data.claimTasks[0].task).toEqual({ id: gid(task.id), queue: 'media', type: 'render' });
  });

  it('returns [] when the wait passes with no work', async () => {
    const t = await makeApp();
    const start = Date.now();
    const r = await t.gql(CLAIM, { w: 'lp4', wait: 1 });
    const elapsed = Date.now() - start;
    expect(r).toEqual({ data: { claimTasks: [] } });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(4000);
  });

  it('caps the wait at maxWaitSeconds', async () => {
    const t = await makeApp({ maxWaitSeconds: 1 });
    const start = Date.now();
    const r = await t.gql(CLAIM, { w: 'lp5', wait: 60 });
    expect(r).toEqual({ data: { claimTasks: [] } });
    expect(Date.now() - start).toBeLessThan(4000);
  });

  it('ends early with [] when the server stops', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    const claim = track(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: CLAIM, variables: { w: 'lp6', wait: 30 } }),
      }).then(async (res) => ({ status: res.status, body: await res.json() })),
    );
    await untilWaiting(t, 'lp6');
    expect(claim.settled).toBe(false);
    const start = Date.now();
    await t.app.stop();
    const r = await claim.promise;
    expect(Date.now() - start).toBeLessThan(5000);
    expect(r).toEqual({ status: 200, body: { data: { claimTasks: [] } } });
  });
});

describe('a long-poll whose client has gone', () => {
  it('claims nothing after an HTTP client disconnects', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    const aborter = new AbortController();
    const pending = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CLAIM, variables: { w: 'gone-http', wait: 20 } }),
      signal: aborter.signal,
    }).catch(() => 'aborted');
    await untilWaiting(t, 'gone-http');
    aborter.abort();
    expect(await pending).toBe('aborted');
    // Give the server a moment to see the closed socket, then offer work.
    await waitFor(() => t.app.httpServer.listenerCount('request') > 0, 'the server to be serving');
    await new Promise((r) => setTimeout(r, 50));
    const { task } = await t.store.enqueue({ type: 'after-abort', payload: {} });
    // A live worker gets it: the departed one did not take it.
    const claimed = await t.ok<{ claimTasks: { task: { id: string } }[] }>(CLAIM, { w: 'alive', wait: 5 });
    expect(claimed.claimTasks).toHaveLength(1);
    expect((await t.store.getTask(task.id))!.lockedBy).toBe('alive');
  });

  it('claims nothing after a WebSocket client completes the operation', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const results: unknown[] = [];
    const stop = client.subscribe({ query: CLAIM, variables: { w: 'gone-ws', wait: 20 } }, {
      next: (v) => void results.push(v),
      error: () => {},
      complete: () => {},
    });
    await untilWaiting(t, 'gone-ws');
    stop(); // sends Complete for the pending mutation
    // Until the server has ended the operation (its gauge of WebSocket operations drops to
    // 0): a fixed pause lost the race on a loaded machine.
    const { url } = await t.listen();
    const operations = async () => {
      const text = await (await fetch(new URL('/metrics', url))).text();
      return Number(/^taskwire_subscriptions (\d+)/m.exec(text)?.[1]);
    };
    await waitFor(async () => (await operations()) === 0, 'the server to end the completed operation');
    const { task } = await t.store.enqueue({ type: 'after-complete', payload: {} });
    const claimed = await t.ok<{ claimTasks: { task: { id: string } }[] }>(CLAIM, { w: 'alive', wait: 5 });
    expect(claimed.claimTasks).toHaveLength(1);
    expect((await t.store.getTask(task.id))!.lockedBy).toBe('alive');
    expect(results).toEqual([]);
  });
});

describe('stop() and WebSocket operations', () => {
  it('lets a WebSocket mutation in flight answer before the socket closes', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    await t.store.enqueue({ type: 'x', payload: {} });
    // Hold the engine's claim back until stop() has begun.
    const realClaim = t.store.claim.bind(t.store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.store.claim = async (input) => {
      await gate;
      return realClaim(input);
    };
    const answer = new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: CLAIM, variables: { w: 'busy' } }, { next: resolve, error: reject, complete: () => {} });
    });
    await waitFor(() => t.app.wsServer.clients.size === 1, 'the socket to be open');
    await new Promise((r) => setTimeout(r, 50));
    const stopped = t.app.stop();
    release();
    const result = (await answer) as { data?: { claimTasks: unknown[] } };
    expect(result.data?.claimTasks).toHaveLength(1);
    await stopped;
  });
});

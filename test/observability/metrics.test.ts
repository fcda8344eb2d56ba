import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, stopApps } from '../helpers/app.js';

afterEach(stopApps);

/** The value of one sample line in Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((kv) => {
      const [k, v] = kv.split('=');
      return [k, JSON.parse(v!)];
    }));
    if (wanted.every(([k, v]) => have[k] === v) && Object.keys(have).length === wanted.length) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  it('reports what a known sequence of operations did', async () => {
    const t = await makeApp();
    const { base } = await t.listen();
    for (const type of ['resize', 'resize', 'email']) await t.store.enqueue({ type, payload: {} });
    const [claimed] = await t.store.claim({ workerId: 'w1', types: ['resize'] });
    await t.store.complete({ taskId: claimed!.task.id, leaseToken: claimed!.leaseToken });
    const [second] = await t.store.claim({ workerId: 'w1', types: ['resize'] });
    await t.store.fail({ taskId: second!.task.id, leaseToken: second!.leaseToken, error: 'boom' });
    // A claim through the API feeds the latency histogram.
    await t.ok(`mutation { claimTasks(input: { workerId: "w2", types: ["email"] }) { leaseToken } }`);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    const events = (event: string, type: string) => sample(text, 'taskwire_task_events_total', { event, queue: 'default', type });
    expect(events('enqueued', 'resize')).toBe(2);
    expect(events('enqueued', 'email')).toBe(1);
    expect(events('claimed', 'resize')).toBe(2);
    expect(events('claimed', 'email')).toBe(1);
    expect(events('succeeded', 'resize')).toBe(1);
    expect(events('retried', 'resize')).toBe(1);
    expect(sample(text, 'taskwire_tasks', { status: 'SUCCEEDED', queue: 'default', type: 'resize' })).toBe(1);
    expect(sample(text, 'taskwire_tasks', { status: 'QUEUED', queue: 'default', type: 'resize' })).toBe(1);
    expect(sample(text, 'taskwire_tasks', { status: 'RUNNING', queue: 'default', type: 'email' })).toBe(1);
    expect(sample(text, 'taskwire_workers_active')).toBe(2);
    expect(sample(text, 'taskwire_claim_duration_seconds_count', { queue: 'default' })).toBe(1);
    expect(sample(text, 'taskwire_sqlite_busy_total')).toBe(0);
    expect(sample(text, 'taskwire_database_bytes', { file: 'db' })).toBeGreaterThan(0);
    expect(sample(text, 'taskwire_oldest_queued_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts open WebSocket connections and their operations', async () => {
    const t = await makeApp();
    const { base, wsUrl } = await t.listen();
    const { createClient } = await import('graphql-ws');
    const WebSocket = (await import('ws')).default;
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false });
    const seen: unknown[] = [];
    const stop = client.subscribe({ query: 'subscription { taskEvents { cursor } }' }, {
      next: (v) => void seen.push(v),
      error: () => {},
      complete: () => {},
    });
    let text = '';
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      text = await (await fetch(`${base}/metrics`)).text();
      if (sample(text, 'taskwire_subscriptions') === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sample(text, 'taskwire_websocket_connections')).toBe(1);
    expect(sample(text, 'taskwire_subscriptions')).toBe(1);
    stop();
    await client.dispose();
  });
});

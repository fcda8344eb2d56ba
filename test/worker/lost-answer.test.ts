/**
 * The nastiest case for "no completion lost or applied twice": the server applies a
 * completion, and the connection drops before its answer reaches the worker. A
 * WebSocket proxy between the worker and a real server swallows that one answer and cuts
 * both sockets; the worker reconnects through the proxy and sends the completion again
 * for the same lease, the server refuses the repeat with LEASE_LOST (the token is
 * cleared), and the worker counts the task completed exactly once.
 */
import { afterEach, expect, test } from 'vitest';
import { createWorker } from '../../src/worker/index.js';
import { cleanup, closeProxies, enqueue, getTask, proxyTo, quietLogger, startServer, track, waitFor } from './harness.js';

afterEach(async () => {
  await cleanup();
  await closeProxies();
});

test('a completion whose answer was lost is sent again and counted once', async () => {
  const server = await startServer();
  const proxy = await proxyTo(server.wsUrl, (m) => m.type === 'next' && m.payload?.data?.completeTask);
  const id = await enqueue(server, { type: 'once' });
  let runs = 0;
  const worker = track(
    createWorker({
      url: proxy.url,
      leaseSeconds: 5,
      waitSeconds: 1,
      logger: quietLogger,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      handler: async () => {
        runs++;
        return { ok: true };
      },
    }),
  );
  const completed: string[] = [];
  const failed: string[] = [];
  worker.on('completed', (t) => completed.push(t.id));
  worker.on('failed', (t, e) => failed.push(`${t.id}: ${e.message}`));
  await worker.start();

  await waitFor(() => completed.length === 1, 'the completed event');
  const completions = proxy.sent.filter((m) => m.type === 'subscribe' && m.payload.query.includes('completeTask('));
  // Sent twice for the same lease: the first was applied, its answer was swallowed.
  expect(completions).toHaveLength(2);
  expect(completions[1].payload.variables).toEqual(completions[0].payload.variables);
  const answers = proxy.received.filter((m) => m.type === 'next' && 'completeTask' in (m.payload.data ?? { completeTask: 0 }));
  expect(answers.map((m) => m.payload.errors?.[0]?.extensions?.code ?? m.payload.data.completeTask.status)).toEqual([
    'SUCCEEDED',
    'LEASE_LOST',
  ]);

  expect(completed).toEqual([id]);
  expect(failed).toEqual([]);
  expect(runs).toBe(1);
  expect(await getTask(server, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { ok: true } });
  const events = await server.store.eventsAfter(0, 1000);
  expect(events.filter((e) => e.kind === 'SUCCEEDED')).toHaveLength(1);
});

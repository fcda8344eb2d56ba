/**
 * The nastiest case for "no completion lost or applied twice": the server applies a
 * completion, and the connection drops before its answer reaches the worker. A
 * WebSocket proxy between the worker and a real server swallows that one answer and cuts
 * both sockets; the worker reconnects through the proxy and sends the completion again
 * for the same lease, the server refuses the repeat with LEASE_LOST (the token is
 * cleared), and the worker counts the task completed exactly once.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createWorker } from '../../src/worker/index.js';
import { cleanup, enqueue, getTask, quietLogger, startServer, track, waitFor } from './harness.js';

const proxies: WebSocketServer[] = [];
afterEach(async () => {
  await cleanup();
  for (const p of proxies.splice(0)) {
    for (const c of p.clients) c.terminate();
    await new Promise((r) => p.close(r));
  }
});

interface Proxy {
  url: string;
  /** Every message the worker sent upstream, parsed. */
  sent: any[];
  /** Every message the server sent back, parsed (including the swallowed one). */
  received: any[];
}

/** A graphql-ws aware proxy that drops the first server message for which `drop` says so, and cuts the connection. */
async function proxyTo(upstreamUrl: string, drop: (message: any) => boolean): Promise<Proxy> {
  const proxy = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  proxies.push(proxy);
  await new Promise((r) => proxy.once('listening', r));
  const state: Proxy = {
    url: `ws://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`,
    sent: [],
    received: [],
  };
  let dropped = false;
  proxy.on('connection', (client) => {
    const upstream = new WebSocket(upstreamUrl, client.protocol);
    const queued: string[] = [];
    upstream.on('open', () => {
      for (const m of queued.splice(0)) upstream.send(m);
    });
    client.on('message', (data) => {
      const text = data.toString();
      state.sent.push(JSON.parse(text));
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else queued.push(text);
    });
    upstream.on('message', (data) => {
      const text = data.toString();
      const message = JSON.parse(text);
      state.received.push(message);
      if (!dropped && drop(message)) {
        dropped = true;
        client.terminate();
        upstream.terminate();
        return;
      }
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return state;
}

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

/**
 * The graceful stop: no new work, requests and WebSocket executions in flight answer,
 * sockets close with 1001 Going Away, and the store closes last.
 */
import type { WebSocket } from 'ws';
import type { ClaimWaiters } from '../events/claim-waiters.js';
import type { Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../store/index.js';
import type { Background } from './background.js';
import type { HttpServer } from './http.js';
import type { WsServer } from './ws.js';

export interface ShutdownParts {
  /** Turns new requests and WebSocket operations away (UNAVAILABLE) from now on. */
  refuseNewWork(): void;
  http: HttpServer;
  ws: WsServer;
  background: Background;
  metrics: Metrics;
  waiters: ClaimWaiters;
  store: TaskStore;
}

/** How long requests in flight may take to answer, and clients to answer a close frame. */
const DRAIN_MS = 10_000;
const CLOSE_HANDSHAKE_MS = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `busy` is false or `ms` have passed, looking every `every` ms. */
async function waitWhile(busy: () => boolean, ms: number, every: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (busy() && Date.now() < deadline) await sleep(every);
}

export async function shutdown({ refuseNewWork, http, ws, background, metrics, waiters, store }: ShutdownParts): Promise<void> {
  refuseNewWork();
  await background.stop();
  metrics.close();
  waiters.close(); // long-polls return [] at once
  // Let requests and WebSocket executions in flight answer before anything closes.
  await waitWhile(() => http.inFlight.size > 0 || ws.executing() > 0, DRAIN_MS, 5);
  // Close frames next (1001 Going Away), and give clients a moment to answer them.
  const sockets = [...(ws.wss.clients as Set<WebSocket>)];
  const socketsClosed = Promise.all(sockets.map((s) => new Promise<void>((r) => (s.readyState === s.CLOSED ? r() : s.once('close', () => r())))));
  for (const client of sockets) client.close(1001, 'server shutting down');
  const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeIdleConnections();
  await waitWhile(() => http.inFlight.size > 0, DRAIN_MS, 10);
  await Promise.race([socketsClosed, sleep(CLOSE_HANDSHAKE_MS)]);
  http.server.closeAllConnections();
  for (const client of ws.wss.clients as Set<WebSocket>) client.terminate();
  await new Promise<void>((resolve) => ws.wss.close(() => resolve()));
  await closed;
  await store.close();
}

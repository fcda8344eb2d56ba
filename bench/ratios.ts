/**
 * Taskwire beside the queues users would pick instead, from one `npm run bench`: the
 * GraphQL section's rows (SQLite) against the peers section's (BullMQ on Redis, plainjob
 * on SQLite). A pair is printed when both sides ran; the PostgreSQL section prints its own
 * ratios against Graphile Worker and pg-boss.
 */
import type { GraphqlReport } from './graphql.js';
import type { PeerKey, PeerReport } from './peers.js';

const PAIRS: { ours: string; peer: PeerKey; what: string }[] = [
  { ours: 'drain-runner', peer: 'bullmqDrain', what: 'drain, 2 worker processes: our worker runner / BullMQ Worker' },
  { ours: 'drain-ws', peer: 'bullmqDrain', what: 'drain, 2 worker processes: a hand loop over WebSocket / BullMQ Worker' },
  { ours: 'engineDrain', peer: 'plainjobDrain', what: 'drain in-process on SQLite: our engine (claim 50 + completeMany) / plainjob' },
  { ours: 'enqueueWs', peer: 'bullmqAdd', what: 'single enqueue: enqueueTask over WebSocket / BullMQ queue.add' },
  { ours: 'batchWs', peer: 'bullmqAdd', what: 'enqueue: enqueueTasks x100 over WebSocket / BullMQ queue.add' },
];

export function formatRatios(graphql: GraphqlReport, peers: PeerReport): string {
  const out = ['Taskwire against its peers, same run (tasks/s; ratio = Taskwire / peer):', ''];
  out.push('| measurement | Taskwire | peer | ratio |', '|---|---:|---:|---:|');
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  for (const p of PAIRS) {
    const ours = graphql.rows.find((r) => r.key === p.ours)?.value;
    const peer = peers.rows.find((r) => r.key === p.peer)?.value;
    if (ours === undefined || peer === undefined || peer === null) continue;
    out.push(`| ${p.what} | ${fmt(ours)} | ${fmt(peer)} | ${(ours / peer).toFixed(2)}x |`);
  }
  out.push('', 'Redis on these machines keeps nothing on disk; Taskwire and plainjob commit every change to a file.');
  return out.join('\n');
}

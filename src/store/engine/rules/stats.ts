/** Queue stats folded from the counts a driver reads (StatsParts). */
import type { QueueStats, TaskStatus, TypeStats } from '../../types.js';
import { TASK_STATUSES } from '../../types.js';
import type { StatsParts } from '../../driver.js';

export function foldStats(queue: string | null, parts: StatsParts, now: number): QueueStats {
  const counts = new Map<TaskStatus, number>(TASK_STATUSES.map((s) => [s, 0]));
  const byType = new Map<string, TypeStats>();
  for (const g of parts.grouped) {
    counts.set(g.status, counts.get(g.status)! + g.count);
    let t = byType.get(g.type);
    if (!t) byType.set(g.type, (t = { type: g.type, queued: 0, running: 0, succeeded: 0, failed: 0 }));
    if (g.status === 'QUEUED') t.queued += g.count;
    else if (g.status === 'RUNNING') t.running += g.count;
    else if (g.status === 'SUCCEEDED') t.succeeded += g.count;
    else if (g.status === 'FAILED') t.failed += g.count;
  }
  const oldest = parts.oldestQueuedCreatedAt;
  return {
    queue,
    counts: TASK_STATUSES.map((status) => ({ status, count: counts.get(status)! })),
    byType: [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)),
    oldestQueuedAgeSeconds: oldest !== null ? Math.max(0, (now - oldest) / 1000) : null,
    activeWorkers: parts.activeWorkers,
    succeededLastMinute: parts.finishedSince.find((r) => r.status === 'SUCCEEDED')?.count ?? 0,
    failedLastMinute: parts.finishedSince.find((r) => r.status === 'FAILED')?.count ?? 0,
  };
}

/** SQLite statements on workers. */
import type { WorkerOpName, Ops } from '../../driver.js';
import type { WorkerStatus } from '../../types.js';
import { WORKER_COLUMNS, toWorker, type WorkerRow } from '../../rows.js';
import type { Statements } from '../statements.js';

export type WorkerOps = Pick<Ops, WorkerOpName>;

export function workerOps(sql: Statements): WorkerOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    refreshWorkerIfActive: sql.once(`UPDATE workers SET heartbeat_at = ? WHERE id = ? AND status = 'ACTIVE' AND (? IS NULL OR capabilities = ?)`),
    workerState: sql.once('SELECT status, capabilities FROM workers WHERE id = ?'),
    upsertWorker: sql.once(`INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at)
           VALUES (@id, coalesce(@caps, '{}'), 'ACTIVE', @now, @now)
           ON CONFLICT (id) DO UPDATE SET
             heartbeat_at = @now,
             status = 'ACTIVE',
             capabilities = coalesce(@caps, workers.capabilities),
             started_at = CASE WHEN workers.status = 'STOPPED' THEN @now ELSE workers.started_at END
           RETURNING ${WORKER_COLUMNS}`),
    markStaleWorkers: sql.once(`UPDATE workers SET status = 'STALE' WHERE status = 'ACTIVE' AND heartbeat_at < ? RETURNING id`),
  };
  return {
    refreshWorkerIfActive(workerId, capabilities, now) {
      return (
        q.refreshWorkerIfActive().run(now, workerId, capabilities, capabilities).changes === 1
      );
    },

    // One writer at a time: nothing to hold.
    lockWorker() {},

    workerState(workerId) {
      return (q.workerState().get(workerId) as { status: WorkerStatus; capabilities: string } | undefined) ?? null;
    },

    upsertWorker(workerId, capabilities, now) {
      const row = q.upsertWorker().get({ id: workerId, caps: capabilities, now }) as WorkerRow;
      return toWorker(row);
    },

    markStaleWorkers(heartbeatBefore) {
      return q.markStaleWorkers().pluck().all(heartbeatBefore) as string[];
    },
  };
}

/** SQLite statements on workers. */
import type { Ops } from '../../driver.js';
import type { WorkerStatus } from '../../types.js';
import { WORKER_COLUMNS, toWorker, type WorkerRow } from '../rows.js';
import type { Statements } from '../statements.js';

export type WorkerOps = Pick<Ops, 'refreshWorkerIfActive' | 'workerState' | 'upsertWorker' | 'markStaleWorkers'>;

export function workerOps(sql: Statements): WorkerOps {
  return {
    refreshWorkerIfActive(workerId, capabilities, now) {
      return (
        sql
          .get(`UPDATE workers SET heartbeat_at = ? WHERE id = ? AND status = 'ACTIVE' AND (? IS NULL OR capabilities = ?)`)
          .run(now, workerId, capabilities, capabilities).changes === 1
      );
    },

    workerState(workerId) {
      return (sql.get('SELECT status, capabilities FROM workers WHERE id = ?').get(workerId) as { status: WorkerStatus; capabilities: string } | undefined) ?? null;
    },

    upsertWorker(workerId, capabilities, now) {
      const row = sql
        .get(
          `INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at)
           VALUES (@id, coalesce(@caps, '{}'), 'ACTIVE', @now, @now)
           ON CONFLICT (id) DO UPDATE SET
             heartbeat_at = @now,
             status = 'ACTIVE',
             capabilities = coalesce(@caps, workers.capabilities),
             started_at = CASE WHEN workers.status = 'STOPPED' THEN @now ELSE workers.started_at END
           RETURNING ${WORKER_COLUMNS}`,
        )
        .get({ id: workerId, caps: capabilities, now }) as WorkerRow;
      return toWorker(row);
    },

    markStaleWorkers(heartbeatBefore) {
      return sql.get(`UPDATE workers SET status = 'STALE' WHERE status = 'ACTIVE' AND heartbeat_at < ? RETURNING id`).pluck().all(heartbeatBefore) as string[];
    },
  };
}

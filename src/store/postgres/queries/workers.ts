/** PostgreSQL statements on workers. */
import type { WorkerStatus } from '../../types.js';
import { WORKER_COLUMNS, toWorker, type WorkerRow } from '../../rows.js';
import type { WorkerOpName } from '../../driver.js';
import { lockKeySql } from '../connection.js';
import { statement, type TxOps } from '../tx.js';

const q = {
  refresh: statement(
    'refresh_worker_if_active',
    `UPDATE workers SET heartbeat_at = $1 WHERE id = $2 AND status = 'ACTIVE' AND ($3::text IS NULL OR capabilities = $3)`,
  ),
  lockWorker: statement('lock_worker', `SELECT pg_advisory_xact_lock(${lockKeySql(`'worker:' || $1`)})`),
  state: statement<{ status: WorkerStatus; capabilities: string }>('worker_state', 'SELECT status, capabilities FROM workers WHERE id = $1'),
  upsert: statement<WorkerRow>(
    'upsert_worker',
    `INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at)
     VALUES ($1, coalesce($2, '{}'), 'ACTIVE', $3, $3)
     ON CONFLICT (id) DO UPDATE SET
       heartbeat_at = $3,
       status = 'ACTIVE',
       capabilities = coalesce($2, workers.capabilities),
       started_at = CASE WHEN workers.status = 'STOPPED' THEN $3 ELSE workers.started_at END
     RETURNING ${WORKER_COLUMNS}`,
  ),
  // Two instances sweeping at once: the second waits for the first's row locks, then
  // finds those rows no longer ACTIVE and returns only the rest.
  markStale: statement<{ id: string }>(
    'mark_stale_workers',
    `UPDATE workers SET status = 'STALE' WHERE status = 'ACTIVE' AND heartbeat_at < $1 RETURNING id`,
  ),
};

export type WorkerQueries = TxOps<WorkerOpName>;

export const workerQueries: WorkerQueries = {
  refreshWorkerIfActive: async ({ db }, workerId, capabilities, now) => (await q.refresh(db, [now, workerId, capabilities])).rowCount === 1,
  async lockWorker({ db }, workerId) {
    await q.lockWorker(db, [workerId]);
  },
  workerState: async ({ db }, workerId) => (await q.state(db, [workerId])).rows[0] ?? null,
  upsertWorker: async ({ db }, workerId, capabilities, now) => toWorker((await q.upsert(db, [workerId, capabilities, now])).rows[0]!),
  markStaleWorkers: async ({ db }, before) => (await q.markStale(db, [before])).rows.map((r) => r.id),
};

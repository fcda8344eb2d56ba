/**
 * The claim's walks of the queue and the reads of its concurrency budget.
 *
 * A walk is one index scan in the strategy's order that locks the rows it returns
 * (FOR UPDATE SKIP LOCKED): claims on other instances walk past them to the next free
 * rows instead of queueing behind this one, and the engine's markRunningIfQueued finds
 * each still QUEUED. Which walks a claim makes is decided in engine/ops/claim.ts.
 */
import type { ClaimWalk } from '../../driver.js';
import type { Candidate, Order } from '../../engine/rules/claiming.js';
import { lockKeySql } from '../connection.js';
import type { ClaimOpName } from '../../driver.js';
import { controlsOf } from '../../rows.js';
import { statement, type TxOps } from '../tx.js';

const ORDER_SQL: Record<Order, string> = {
  PRIORITY: 'priority, id',
  FIFO: 'id',
  // ix_tasks_claim_fifo read backwards.
  LIFO: 'id DESC',
};

type Mode = 'any' | 'eq' | 'gt';
const ORDERS: readonly Order[] = ['PRIORITY', 'FIFO', 'LIFO'];
const MODES: readonly Mode[] = ['any', 'eq', 'gt'];

/**
 * The SQL of one walk; filters a walk does not need are left out, so each shape gets a
 * plan made for it. Exported for the EXPLAIN test. Parameters: $1 queue, $2 now,
 * $3 region, $4 limit, then type, priority, formats and excluded types as present.
 */
export function walkSql(order: Order, byType: boolean, mode: Mode, formats: boolean, excluded: boolean, lock = true): string {
  let n = 4;
  const where = [`status = 'QUEUED'`, 'queue = $1'];
  if (byType) where.push(`type = $${++n}`);
  if (mode !== 'any') where.push(`priority ${mode === 'eq' ? '=' : '>'} $${++n}::bigint`);
  where.push('run_after <= $2', '(region IS NULL OR region = $3)');
  if (formats) where.push(`(format IS NULL OR format = ANY($${++n}::text[]))`);
  if (excluded) where.push(`type <> ALL($${++n}::text[])`);
  return `SELECT id, type, priority FROM tasks WHERE ${where.join(' AND ')}
    ORDER BY ${ORDER_SQL[order]} LIMIT $4${lock ? ' FOR UPDATE SKIP LOCKED' : ''}`;
}

const walks = new Map<number, ReturnType<typeof statement<Candidate>>>();

function walkStatement(w: ClaimWalk, lock: boolean) {
  const mode: Mode = w.priority?.mode ?? 'any';
  const formats = w.formats !== null;
  const excluded = w.excluded.length > 0;
  const key = (lock ? 0 : 72) + ORDERS.indexOf(w.order) * 24 + (w.type !== null ? 12 : 0) + MODES.indexOf(mode) * 4 + (formats ? 2 : 0) + (excluded ? 1 : 0);
  let s = walks.get(key);
  if (!s) walks.set(key, (s = statement<Candidate>(`claim_walk_${key}`, walkSql(w.order, w.type !== null, mode, formats, excluded, lock))));
  return s;
}

function walkValues(w: ClaimWalk): unknown[] {
  const values: unknown[] = [w.queue, w.now, w.region, w.limit];
  if (w.type !== null) values.push(w.type);
  if (w.priority !== null) values.push(w.priority.value);
  if (w.formats !== null) values.push(w.formats);
  if (w.excluded.length > 0) values.push(w.excluded);
  return values;
}

const q = {
  // Its own statement: the RUNNING counts read next take their snapshot after the lock is
  // held, so they include every claim committed by the previous holder.
  lockQueue: statement('lock_queue', `SELECT pg_advisory_xact_lock(${lockKeySql(`'queue:' || $1`)})`),
  queueControls: statement<{ type: string; maxRunning: number | null }>(
    'queue_controls',
    `SELECT type, max_running AS "maxRunning" FROM concurrency_limits WHERE queue = $1
     UNION ALL SELECT type, NULL FROM queue_pauses WHERE queue = $1`,
  ),
  runningInQueue: statement<{ n: number }>('running_in_queue', `SELECT count(*) AS n FROM tasks WHERE queue = $1 AND status = 'RUNNING'`),
  runningOfType: statement<{ n: number }>(
    'running_of_type',
    `SELECT count(*) AS n FROM tasks WHERE queue = $1 AND type = $2 AND status = 'RUNNING'`,
  ),
};

export type ClaimQueries = TxOps<ClaimOpName>;

export const claimQueries: ClaimQueries = {
  async lockQueue({ db }, queue) {
    await q.lockQueue(db, [queue]);
  },

  queueControls: async ({ db }, queue) => controlsOf((await q.queueControls(db, [queue])).rows),

  async runningCount({ db }, queue, type) {
    const { rows } = type === null ? await q.runningInQueue(db, [queue]) : await q.runningOfType(db, [queue, type]);
    return rows[0]!.n;
  },

  claimWalk: async ({ db }, w) => (await walkStatement(w, true)(db, walkValues(w))).rows,
  peekClaimable: async ({ db }, w) => (await walkStatement(w, false)(db, walkValues(w))).rows,
};

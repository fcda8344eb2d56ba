/**
 * The claim's walks of the queue, and the reads of its concurrency budget.
 *
 * Every walk names its index (INDEXED BY) so that a schema change that would make SQLite
 * sort the queue fails loudly instead of slowing down quietly. Which walks a claim makes
 * (one per listed type, the levels of WEIGHTED_RANDOM) is decided in engine/ops/claim.ts.
 */
import type { ClaimOpName, ClaimWalk, Ops } from '../../driver.js';
import type { Candidate, Order } from '../../engine/rules/claiming.js';
import { controlsOf } from '../../rows.js';
import type { Statements } from '../statements.js';

const ORDER_SQL: Record<Order, string> = {
  PRIORITY: 'priority, id',
  FIFO: 'id',
  LIFO: 'id DESC',
};

function indexFor(order: Order, byType: boolean): string {
  if (order === 'PRIORITY') return byType ? 'ix_tasks_claim_type_priority' : 'ix_tasks_claim_priority';
  return byType ? 'ix_tasks_claim_type_fifo' : 'ix_tasks_claim_fifo';
}

/** How a walk restricts priority: not at all, one level, or levels after a given one. */
export type PriorityMode = 'any' | 'eq' | 'gt';

/** Which optional filters a walk needs; each combination is its own cached statement. */
export interface WalkShape {
  formats: boolean;
  excluded: boolean;
}

const ALL_FILTERS: WalkShape = { formats: true, excluded: true };

/** The SQL of one index walk; exported for the EXPLAIN QUERY PLAN test. */
export function candidateSql(
  order: Order,
  byType: boolean,
  priority: PriorityMode | boolean,
  shape: WalkShape = ALL_FILTERS,
): string {
  const mode: PriorityMode = priority === true ? 'eq' : priority === false ? 'any' : priority;
  // Filters a worker does not need are left out of the SQL rather than passed as NULL:
  // SQLite would still set up their json_each subqueries on every claim.
  return `SELECT id, type, priority FROM tasks INDEXED BY ${indexFor(order, byType)}
    WHERE status = 'QUEUED' AND queue = @queue
      ${byType ? 'AND type = @type' : ''}
      ${mode === 'eq' ? 'AND priority = @priority' : mode === 'gt' ? 'AND priority > @priority' : ''}
      AND run_after <= @now
      AND (region IS NULL OR region = @region)
      ${shape.formats ? 'AND (format IS NULL OR format IN (SELECT value FROM json_each(@formats)))' : ''}
      ${shape.excluded ? 'AND type NOT IN (SELECT value FROM json_each(@excluded))' : ''}
    ORDER BY ${ORDER_SQL[order]}
    LIMIT @limit`;
}

const ORDERS: readonly Order[] = ['PRIORITY', 'FIFO', 'LIFO'];
const MODES: readonly PriorityMode[] = ['any', 'eq', 'gt'];

export type ClaimOps = Pick<Ops, ClaimOpName>;

export function claimOps(sql: Statements): ClaimOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    queueControls: sql.once(`SELECT type, max_running AS maxRunning FROM concurrency_limits WHERE queue = @queue
           UNION ALL SELECT type, NULL FROM queue_pauses WHERE queue = @queue`),
    runningCount: sql.once(`SELECT coalesce(sum(count), 0) FROM task_counts WHERE queue = ? AND status = 'RUNNING'`),
    runningCount2: sql.once(`SELECT count FROM task_counts WHERE queue = ? AND type = ? AND status = 'RUNNING'`),
  };
  /** Walk statements by shape, a number: a fixed, small set (orders x type x priority mode x filters). */
  const walks = new Map<number, ReturnType<Statements['get']>>();
  const claimWalk = (w: ClaimWalk): Candidate[] => {
    const mode = w.priority?.mode ?? 'any';
    const formats = w.formats !== null;
    const excluded = w.excluded.length > 0;
    const key = ORDERS.indexOf(w.order) * 24 + (w.type !== null ? 12 : 0) + MODES.indexOf(mode) * 4 + (formats ? 2 : 0) + (excluded ? 1 : 0);
    let stmt = walks.get(key);
    if (!stmt) walks.set(key, (stmt = sql.db.prepare(candidateSql(w.order, w.type !== null, mode, { formats, excluded }))));
    // Only the parameters its SQL uses are bound.
    const p: Record<string, unknown> = { queue: w.queue, now: w.now, region: w.region, limit: w.limit };
    if (w.type !== null) p.type = w.type;
    if (w.priority !== null) p.priority = w.priority.value;
    if (w.formats) p.formats = JSON.stringify(w.formats);
    if (w.excluded.length > 0) p.excluded = JSON.stringify(w.excluded);
    return stmt.all(p) as Candidate[];
  };
  return {
    // One writer at a time already: claims never overlap.
    lockQueue() {},

    queueControls(queue) {
      return controlsOf(q.queueControls().all({ queue }) as { type: string; maxRunning: number | null }[]);
    },

    runningCount(queue, type) {
      // task_counts is kept by triggers in the same transactions as the rows (migration 004).
      if (type === null) {
        return q.runningCount().pluck().get(queue) as number;
      }
      return (q.runningCount2().pluck().get(queue, type) as number | undefined) ?? 0;
    },

    claimWalk,
    // Nothing to lock: the write lock is this transaction's alone.
    peekClaimable: claimWalk,
  };
}

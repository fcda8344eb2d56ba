/**
 * PostgreSQL statements on the outbox and retention. A transaction's events are kept in
 * memory (Tx.events) and inserted by insertEvents just before COMMIT, as one batch row; the
 * feed's step numbers batches once committed and reads them back (migration 002, feed_step).
 */
import { FINISHED_STATUSES } from '../../engine/transitions.js';
import type { NewEvent } from '../../driver.js';
import type { StoredEvent } from '../../types.js';
import { toEvent, type EventRow } from '../../rows.js';
import type { OutboxOpName } from '../../driver.js';
import { statement, type Queryable, type TxOps } from '../tx.js';

const FINISHED = `(${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** A batch's events, unnested in order; `b` is a subquery of event_batches rows. */
const UNNEST = `CROSS JOIN LATERAL unnest(b.kinds, b.ats, b.task_ids, b.statuses, b.queues, b.types, b.worker_ids, b.log_ids)
       WITH ORDINALITY AS e(kind, at, task_id, status, queue, type, worker_id, log_id, o)`;

/** The seam's cut of the outbox: pos <= last_pos - $1 (keep) and at < $2 (before). */
const CUT = `(SELECT last_pos - $1::bigint FROM event_sequence WHERE id = 1)`;

const q = {
  // One row per transaction (migration 002): the events as parallel arrays.
  insertEvents: statement(
    'insert_event_batch',
    `INSERT INTO event_batches (n, kinds, ats, task_ids, statuses, queues, types, worker_ids, log_ids, max_at)
     VALUES ($1, $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10)`,
  ),
  step: statement<EventRow & { numbered: number }>('feed_step', 'SELECT * FROM feed_step($1, $2, $3, $4, $5)'),
  // page + 1 batches hold at least page events after $1 (only the first may start at or before it).
  after: statement<EventRow>(
    'events_after',
    `SELECT b.pos + e.o - 1 AS id, e.kind, e.at, e.task_id, e.status, e.queue, e.type, e.worker_id, e.log_id
       FROM (SELECT * FROM event_batches WHERE last_pos > $1 ORDER BY last_pos LIMIT $2::int + 1) b ${UNNEST}
      WHERE b.pos + e.o - 1 > $1 ORDER BY b.last_pos, e.o LIMIT $2`,
  ),
  lastPos: statement<{ last: number }>('last_event_pos', 'SELECT last_pos AS last FROM event_sequence WHERE id = 1'),
  // Whole numbered batches whose newest event is older than $1, oldest first, at most $2 events.
  deleteBefore: statement<{ n: number }>(
    'delete_events_before',
    `WITH old AS (SELECT id, n, max_at FROM event_batches WHERE max_at < $1 AND pos IS NOT NULL ORDER BY max_at LIMIT $2),
     upto AS (SELECT id, sum(n) OVER (ORDER BY max_at, id) AS total FROM old),
     d AS (DELETE FROM event_batches WHERE id IN (SELECT id FROM upto WHERE total <= $2) RETURNING n)
     SELECT coalesce(sum(n), 0)::int AS n FROM d`,
  ),
  // Events at or before the cut and older than $2: a batch loses the longest such head
  // (its positions stay contiguous), or goes whole.
  deleteBeyond: statement<{ n: number }>(
    'delete_events_beyond',
    `WITH c AS (SELECT ${CUT} AS cut),
     cand AS (
       SELECT b.* FROM event_batches b WHERE b.last_pos <= (SELECT cut FROM c)
       UNION ALL
       (SELECT b.* FROM event_batches b WHERE b.last_pos > (SELECT cut FROM c) ORDER BY b.last_pos LIMIT 1)),
     k AS (
       SELECT b.id, b.n, least(b.n::bigint, (SELECT cut FROM c) - b.pos + 1,
                coalesce((SELECT min(u.o) - 1 FROM unnest(b.ats) WITH ORDINALITY AS u(a, o) WHERE u.a >= $2), b.n))::int AS k
         FROM cand b WHERE b.pos <= (SELECT cut FROM c)),
     d AS (DELETE FROM event_batches b USING k WHERE b.id = k.id AND k.k = k.n RETURNING k.k),
     t AS (
       UPDATE event_batches b SET pos = b.pos + k.k, n = b.n - k.k, kinds = b.kinds[k.k + 1:], ats = b.ats[k.k + 1:],
         task_ids = b.task_ids[k.k + 1:], statuses = b.statuses[k.k + 1:], queues = b.queues[k.k + 1:], types = b.types[k.k + 1:],
         worker_ids = b.worker_ids[k.k + 1:], log_ids = b.log_ids[k.k + 1:],
         max_at = (SELECT max(a) FROM unnest(b.ats[k.k + 1:]) AS a)
       FROM k WHERE b.id = k.id AND k.k > 0 AND k.k < k.n RETURNING k.k)
     SELECT (coalesce((SELECT sum(k) FROM d), 0) + coalesce((SELECT sum(k) FROM t), 0))::int AS n`,
  ),
  finishedBefore: statement<{ id: number }>(
    'finished_task_ids_before',
    `SELECT id FROM tasks WHERE finished_at IS NOT NULL AND finished_at < $1 AND status IN ${FINISHED}
     ORDER BY finished_at LIMIT $2`,
  ),
  deleteLogs: statement('delete_task_logs', 'DELETE FROM task_logs WHERE task_id = ANY($1::bigint[])'),
  deleteEdges: statement(
    'delete_task_edges',
    'DELETE FROM task_dependencies WHERE task_id = ANY($1::bigint[]) OR depends_on_id = ANY($1::bigint[])',
  ),
  deleteTasks: statement('delete_tasks', 'DELETE FROM tasks WHERE id = ANY($1::bigint[])'),
};

/** Writes a transaction's events as one row (column arrays). */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<void> {
  const cols: unknown[][] = [[], [], [], [], [], [], [], []];
  let maxAt = -Infinity;
  for (const e of events) {
    if (e.at > maxAt) maxAt = e.at;
    cols[0]!.push(e.kind);
    cols[1]!.push(e.at);
    cols[2]!.push(e.taskId ?? null);
    cols[3]!.push(e.status ?? null);
    cols[4]!.push(e.queue ?? null);
    cols[5]!.push(e.type ?? null);
    cols[6]!.push(e.workerId ?? null);
    cols[7]!.push(e.logId ?? null);
  }
  await q.insertEvents(db, [events.length, ...cols, maxAt]);
}

/**
 * One feed step: numbers up to `maxBatches` committed, unnumbered batches, and returns up
 * to `page` events after `after` with how many batches this call numbered; if it numbered
 * any, `notify` (channel and payload) is sent as its transaction commits.
 */
export async function feedStep(
  db: Queryable,
  after: number,
  maxBatches: number,
  page: number,
  notify: { channel: string; payload: string } | null,
): Promise<{ events: StoredEvent[]; numbered: number }> {
  const { rows } = await q.step(db, [after, maxBatches, page, notify?.channel ?? null, notify?.payload ?? null]);
  return { events: rows.map(toEvent), numbered: rows.length === 0 ? 0 : rows[0]!.numbered };
}

export async function eventsAfter(db: Queryable, after: number, limit: number) {
  return (await q.after(db, [after, limit])).rows.map(toEvent);
}

export async function lastEventPos(db: Queryable): Promise<number> {
  return (await q.lastPos(db, [])).rows[0]!.last;
}

export type OutboxQueries = TxOps<OutboxOpName>;

export const outboxQueries: OutboxQueries = {
  async appendEvent(tx, event) {
    tx.events.push(event);
  },
  eventsAfter: ({ db }, after, limit) => eventsAfter(db, after, limit),
  lastEventId: ({ db }) => lastEventPos(db),
  deleteEventsBefore: async ({ db }, cutoff, limit) => (await q.deleteBefore(db, [cutoff, limit])).rows[0]!.n,
  deleteEventsBeyond: async ({ db }, keep, before) => (await q.deleteBeyond(db, [keep, before])).rows[0]!.n,
  finishedTaskIdsBefore: async ({ db }, cutoff, limit) => (await q.finishedBefore(db, [cutoff, limit])).rows.map((r) => r.id),
  async deleteTasks({ db }, ids) {
    const logs = (await q.deleteLogs(db, [ids])).rowCount ?? 0;
    await q.deleteEdges(db, [ids]);
    const tasks = (await q.deleteTasks(db, [ids])).rowCount ?? 0;
    return { tasks, logs };
  },
};

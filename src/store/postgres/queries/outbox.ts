/**
 * PostgreSQL statements on the outbox and retention. A transaction's events are kept in
 * memory (Tx.events) and inserted by insertEvents just before COMMIT; the sequencer
 * numbers them once committed (migration 001, sequence_events).
 */
import { FINISHED_STATUSES } from '../../engine/transitions.js';
import type { NewEvent } from '../../driver.js';
import { toEvent, type EventRow } from '../../rows.js';
import { EVENT_COLUMNS } from '../rows.js';
import type { OutboxOpName } from '../../driver.js';
import { statement, type Queryable, type TxOps } from '../tx.js';

const FINISHED = `(${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

const q = {
  insertEvents: statement(
    'insert_events',
    `INSERT INTO task_events (kind, at, task_id, status, queue, type, worker_id, log_id)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])`,
  ),
  sequence: statement<{ n: number }>('sequence_events', 'SELECT sequence_events($1) AS n'),
  after: statement<EventRow>('events_after', `SELECT ${EVENT_COLUMNS} FROM task_events WHERE pos > $1 ORDER BY pos LIMIT $2`),
  lastPos: statement<{ last: number }>('last_event_pos', 'SELECT last_pos AS last FROM event_sequence WHERE id = 1'),
  // Only numbered rows: an unnumbered one is newer than anything a reader has seen.
  deleteBefore: statement(
    'delete_events_before',
    `DELETE FROM task_events WHERE id IN (
       SELECT id FROM task_events WHERE at < $1 AND pos IS NOT NULL ORDER BY at LIMIT $2)`,
  ),
  deleteBeyond: statement(
    'delete_events_beyond',
    `DELETE FROM task_events WHERE pos <= (SELECT last_pos FROM event_sequence WHERE id = 1) - $1 AND at < $2`,
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

/** Writes a transaction's events with one statement (column arrays, unnested). */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<void> {
  const cols: unknown[][] = [[], [], [], [], [], [], [], []];
  for (const e of events) {
    cols[0]!.push(e.kind);
    cols[1]!.push(e.at);
    cols[2]!.push(e.taskId ?? null);
    cols[3]!.push(e.status ?? null);
    cols[4]!.push(e.queue ?? null);
    cols[5]!.push(e.type ?? null);
    cols[6]!.push(e.workerId ?? null);
    cols[7]!.push(e.logId ?? null);
  }
  await q.insertEvents(db, cols);
}

/** Numbers committed outbox rows (at most `max`); how many it numbered. */
export async function sequenceEvents(db: Queryable, max: number): Promise<number> {
  return (await q.sequence(db, [max])).rows[0]!.n;
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
  deleteEventsBefore: async ({ db }, cutoff, limit) => (await q.deleteBefore(db, [cutoff, limit])).rowCount ?? 0,
  deleteEventsBeyond: async ({ db }, keep, before) => (await q.deleteBeyond(db, [keep, before])).rowCount ?? 0,
  finishedTaskIdsBefore: async ({ db }, cutoff, limit) => (await q.finishedBefore(db, [cutoff, limit])).rows.map((r) => r.id),
  async deleteTasks({ db }, ids) {
    const logs = (await q.deleteLogs(db, [ids])).rowCount ?? 0;
    await q.deleteEdges(db, [ids]);
    const tasks = (await q.deleteTasks(db, [ids])).rowCount ?? 0;
    return { tasks, logs };
  },
};

/**
 * SQLite statements on the outbox (task_events). Rowids are handed out in commit order
 * (one writer at a time), so "every row after id N" is gapless: the feed relies on it.
 *
 * Appended rows are held and written together, as multi-row INSERTs, when the unit that
 * appended them ends (the driver calls flush inside the unit's transaction or savepoint,
 * and discard when the unit throws), before a nested unit starts, and before any
 * statement here that reads the outbox. Nothing else reads task_events inside a write,
 * so the rows, their ids (AUTOINCREMENT, in append order) and what commits are the same
 * as if each had been inserted when it was appended; a claim of 50 runs one statement
 * for its 50 rows instead of 50.
 */
import type { OutboxOpName, Ops } from '../../driver.js';
import type { StoredEvent } from '../../types.js';
import { FINISHED_STATUSES } from '../../engine/transitions.js';
import { toEvent, type EventRow } from '../../rows.js';
import { EVENT_COLUMNS } from '../rows.js';
import { jsonList, sqlList, type Statements } from '../statements.js';

const FINISHED_SQL = sqlList(FINISHED_STATUSES);

export type OutboxOps = Pick<Ops, OutboxOpName>;

/** The highest outbox id ever given (sqlite_sequence keeps it after the rows are trimmed). */
export function lastEventId(sql: Statements): number {
  return (sql.get(`SELECT seq FROM sqlite_sequence WHERE name = 'task_events'`).pluck().get() as number | undefined) ?? 0;
}

/** Outbox rows after `after`, oldest first. */
export function eventsAfter(sql: Statements, after: number, limit: number): StoredEvent[] {
  return (sql.get(`SELECT ${EVENT_COLUMNS} FROM task_events WHERE id > ? ORDER BY id LIMIT ?`).all(after, limit) as EventRow[]).map(toEvent);
}

/** Most rows one INSERT writes; a longer list is written in chunks of this size. */
const ROWS_PER_INSERT = 64;
const EVENT_INSERT = 'INSERT INTO task_events (kind, at, task_id, status, queue, type, worker_id, log_id) VALUES ';
const EVENT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';

/** The outbox operations, and the driver's hold on the rows appended but not yet written. */
export interface OutboxWriter {
  ops: OutboxOps;
  /** Writes the held rows (in this transaction) and hands each, with its id, to `written`. */
  flush(): void;
  /** Drops the held rows: the unit that appended them failed. */
  discard(): void;
}

/** `written` receives each appended row once it is written, for the feed to publish after commit. */
export function outboxOps(sql: Statements, written: (event: StoredEvent) => void): OutboxWriter {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    deleteEventsBefore: sql.once(`DELETE FROM task_events WHERE id IN (SELECT id FROM task_events WHERE at < ? ORDER BY id LIMIT ?)`),
    deleteEventsBeyond: sql.once('DELETE FROM task_events WHERE id <= ? AND at < ?'),
    finishedTaskIdsBefore: sql.once(`SELECT id FROM tasks INDEXED BY ix_tasks_finished
           WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ${FINISHED_SQL} LIMIT ?`),
    deleteTasks: sql.once('DELETE FROM task_logs WHERE task_id IN (SELECT value FROM json_each(?))'),
    deleteTasks2: sql.once('DELETE FROM task_dependencies WHERE task_id IN (SELECT value FROM json_each(?))'),
    deleteTasks3: sql.once('DELETE FROM task_dependencies WHERE depends_on_id IN (SELECT value FROM json_each(?))'),
    deleteTasks4: sql.once('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))'),
  };
  /** INSERT statements by row count (1..ROWS_PER_INSERT), prepared on first use. */
  const inserts: ReturnType<Statements['get']>[] = [];
  const insertOf = (rows: number) =>
    (inserts[rows] ??= sql.db.prepare(EVENT_INSERT + Array.from({ length: rows }, () => EVENT_ROW).join(', ')));
  /** Appended rows not yet written, as the rows they will be (id set when written). */
  let held: StoredEvent[] = [];
  const values: unknown[] = [];

  const flush = (): void => {
    if (held.length === 0) return;
    const rows = held;
    held = [];
    for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
      const chunk = Math.min(ROWS_PER_INSERT, rows.length - from);
      values.length = 0;
      for (let i = from; i < from + chunk; i++) {
        const e = rows[i]!;
        values.push(e.kind, e.at, e.taskId, e.status, e.queue, e.type, e.workerId, e.logId);
      }
      const info = insertOf(chunk).run(values);
      if (info.changes !== chunk) throw new Error(`outbox: ${info.changes} of ${chunk} rows written`);
      // AUTOINCREMENT under the only writer: the rows of one INSERT take consecutive ids, in order.
      const last = Number(info.lastInsertRowid);
      for (let i = 0; i < chunk; i++) {
        const e = rows[from + i]!;
        e.id = last - chunk + 1 + i;
        written(e);
      }
    }
  };

  const ops: OutboxOps = {
    appendEvent(e) {
      held.push({
        id: 0,
        kind: e.kind,
        at: e.at,
        taskId: e.taskId ?? null,
        status: e.status ?? null,
        queue: e.queue ?? null,
        type: e.type ?? null,
        workerId: e.workerId ?? null,
        logId: e.logId ?? null,
      });
    },

    eventsAfter: (after, limit) => (flush(), eventsAfter(sql, after, limit)),
    lastEventId: () => (flush(), lastEventId(sql)),

    deleteEventsBefore(cutoff, limit) {
      flush();
      return q.deleteEventsBefore().run(cutoff, limit).changes;
    },

    deleteEventsBeyond(keep, before) {
      flush();
      return q.deleteEventsBeyond().run(lastEventId(sql) - keep, before).changes;
    },

    finishedTaskIdsBefore(cutoff, limit) {
      return q.finishedTaskIdsBefore().pluck()
        .all(cutoff, limit) as number[];
    },

    deleteTasks(ids) {
      const list = jsonList(ids);
      const logs = q.deleteTasks().run(list).changes;
      q.deleteTasks2().run(list);
      q.deleteTasks3().run(list);
      const tasks = q.deleteTasks4().run(list).changes;
      return { tasks, logs };
    },
  };
  return {
    ops,
    flush,
    discard: () => {
      held = [];
    },
  };
}

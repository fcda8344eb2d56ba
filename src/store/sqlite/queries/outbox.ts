/**
 * SQLite statements on the outbox (task_events). Rowids are handed out in commit order
 * (one writer at a time), so "every row after id N" is gapless: the feed relies on it.
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

/** `written` receives each appended row, for the feed to publish after commit. */
export function outboxOps(sql: Statements, written: (event: StoredEvent) => void): OutboxOps {
  // Each operation's statements, prepared on first use and held here (Statements.once).
  const q = {
    appendEvent: sql.once(`INSERT INTO task_events (kind, at, task_id, status, queue, type, worker_id, log_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteEventsBefore: sql.once(`DELETE FROM task_events WHERE id IN (SELECT id FROM task_events WHERE at < ? ORDER BY id LIMIT ?)`),
    deleteEventsBeyond: sql.once('DELETE FROM task_events WHERE id <= ? AND at < ?'),
    finishedTaskIdsBefore: sql.once(`SELECT id FROM tasks INDEXED BY ix_tasks_finished
           WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ${FINISHED_SQL} LIMIT ?`),
    deleteTasks: sql.once('DELETE FROM task_logs WHERE task_id IN (SELECT value FROM json_each(?))'),
    deleteTasks2: sql.once('DELETE FROM task_dependencies WHERE task_id IN (SELECT value FROM json_each(?))'),
    deleteTasks3: sql.once('DELETE FROM task_dependencies WHERE depends_on_id IN (SELECT value FROM json_each(?))'),
    deleteTasks4: sql.once('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))'),
  };
  return {
    appendEvent(e) {
      const info = q.appendEvent().run(e.kind, e.at, e.taskId ?? null, e.status ?? null, e.queue ?? null, e.type ?? null, e.workerId ?? null, e.logId ?? null);
      written({
        id: Number(info.lastInsertRowid),
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

    eventsAfter: (after, limit) => eventsAfter(sql, after, limit),
    lastEventId: () => lastEventId(sql),

    deleteEventsBefore(cutoff, limit) {
      return q.deleteEventsBefore().run(cutoff, limit).changes;
    },

    deleteEventsBeyond(keep, before) {
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
}

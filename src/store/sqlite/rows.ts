/** The SQLite outbox columns; every other row shape and mapper is dialect-neutral (../rows.ts). */

export const EVENT_COLUMNS = 'id, kind, at, task_id, status, queue, type, worker_id, log_id';

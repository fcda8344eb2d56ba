/** The PostgreSQL outbox columns; every other row shape and mapper is dialect-neutral (../rows.ts). */

/** The outbox row as subscribers see it: its id is its pos, the gapless cursor. */
export const EVENT_COLUMNS = 'pos AS id, kind, at, task_id, status, queue, type, worker_id, log_id';

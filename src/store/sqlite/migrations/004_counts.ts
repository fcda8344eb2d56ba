/**
 * 004: task counts in a table kept by triggers, instead of two indexes on every status.
 *
 * Why: every status change (enqueue, claim, complete) had to delete and insert an entry
 * in ix_tasks_status_id and in ix_tasks_queue_status_type, which together cost about 40%
 * of a claim-and-complete cycle; and stats still had to count index entries, which grows
 * with the table. The counts now live in one small row per (queue, type, status), updated
 * by triggers in the same transaction as the change, so they cannot drift from the rows,
 * and stats read them in O(number of groups).
 *
 * Listing by status keeps an index where it helps: finished and BLOCKED tasks are found
 * through a partial (status, id) index that a claim never touches; QUEUED tasks through
 * the claim indexes (per queue) or the primary key; RUNNING tasks through ix_tasks_running.
 */
export const sql = /* sql */ `
CREATE TABLE task_counts (
  queue  TEXT    NOT NULL,
  type   TEXT    NOT NULL,
  status TEXT    NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (queue, type, status)
) WITHOUT ROWID;

INSERT INTO task_counts (queue, type, status, count)
  SELECT queue, type, status, count(*) FROM tasks GROUP BY queue, type, status;

CREATE TRIGGER tr_tasks_count_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO task_counts (queue, type, status, count) VALUES (new.queue, new.type, new.status, 1)
    ON CONFLICT (queue, type, status) DO UPDATE SET count = count + 1;
END;

-- Only when the group changes: progress, heartbeats and the like fire nothing.
CREATE TRIGGER tr_tasks_count_update AFTER UPDATE OF status, queue, type ON tasks
  WHEN old.status IS NOT new.status OR old.queue IS NOT new.queue OR old.type IS NOT new.type
BEGIN
  UPDATE task_counts SET count = count - 1 WHERE queue = old.queue AND type = old.type AND status = old.status;
  INSERT INTO task_counts (queue, type, status, count) VALUES (new.queue, new.type, new.status, 1)
    ON CONFLICT (queue, type, status) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER tr_tasks_count_delete AFTER DELETE ON tasks BEGIN
  UPDATE task_counts SET count = count - 1 WHERE queue = old.queue AND type = old.type AND status = old.status;
END;

DROP INDEX ix_tasks_status_id;
DROP INDEX ix_tasks_queue_status_type;
CREATE INDEX ix_tasks_settled_status ON tasks (status, id) WHERE status IN ('BLOCKED','SUCCEEDED','FAILED','CANCELLED');
`;

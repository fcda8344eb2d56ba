/**
 * 005: a batch statement may adjust task_counts once per group instead of once per row.
 *
 * Why: the count trigger runs two statements for every row whose status changes; a claim
 * or completion of 50 tasks ran 100 of them, for two groups. The trigger now stands aside
 * while task_counts_paused holds a row. The batch forms of markRunningIfQueued and
 * finishIfLeased (queries/tasks.ts) insert that row, run their UPDATE, add each group's
 * change from the rows it returned, and delete the row again, all inside their own
 * statement sequence of one transaction: no other connection ever sees it (one writer at a
 * time, and a failure rolls the row back with the rest). Every other statement, in this
 * process or any other, is counted by the trigger as before.
 */
export const sql = /* sql */ `
CREATE TABLE task_counts_paused (
  one INTEGER PRIMARY KEY CHECK (one = 1)
);

DROP TRIGGER tr_tasks_count_update;
CREATE TRIGGER tr_tasks_count_update AFTER UPDATE OF status, queue, type ON tasks
  WHEN (old.status IS NOT new.status OR old.queue IS NOT new.queue OR old.type IS NOT new.type)
    AND NOT EXISTS (SELECT 1 FROM task_counts_paused)
BEGIN
  UPDATE task_counts SET count = count - 1 WHERE queue = old.queue AND type = old.type AND status = old.status;
  INSERT INTO task_counts (queue, type, status, count) VALUES (new.queue, new.type, new.status, 1)
    ON CONFLICT (queue, type, status) DO UPDATE SET count = count + 1;
END;
`;

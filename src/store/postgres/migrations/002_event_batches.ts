/**
 * 002: the outbox as one row per transaction, numbered and read in one step.
 *
 * Before, a transaction inserted one task_events row per event, and the sequencer numbered
 * each with an UPDATE: for a claim of 50, 50 inserts and 50 updates, each maintaining three
 * or four indexes, then a second round trip to read them back. That was most of
 * PostgreSQL's work in a drain (more than the task rows themselves).
 *
 * Now a transaction inserts one event_batches row: its events as parallel arrays, in the
 * order they were appended. The sequencer numbers whole batches: a batch of n events gets
 * the positions pos .. last_pos (last_pos = pos + n - 1), so every event still has its own
 * gapless position, and "every event after pos N" is every batch whose last_pos > N,
 * unnested, skipping the events at or before N. Batches are numbered as rows were: only
 * once committed, one sequencer at a time (the lock on event_sequence), in id order.
 *
 * feed_step numbers what is committed and unnumbered, then returns the events after a
 * cursor, in one statement: the feed's step is one round trip.
 *
 * Retention trims a batch from its front (pos moves up, the arrays lose their head), so a
 * batch's positions stay contiguous. task_events stays as a view with the old columns, for
 * ad-hoc queries and tests; the driver reads event_batches.
 *
 * Existing rows become batches of one, numbered rows keeping their pos.
 */
export const sql = /* sql */ `
CREATE TABLE event_batches (
  id         bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The first and last position of the batch's events; NULL until numbered.
  pos        bigint,
  last_pos   bigint,
  n          integer  NOT NULL CHECK (n > 0),
  kinds      text[]   NOT NULL,
  ats        bigint[] NOT NULL,
  task_ids   bigint[] NOT NULL,
  statuses   text[]   NOT NULL,
  queues     text[]   NOT NULL,
  types      text[]   NOT NULL,
  worker_ids text[]   NOT NULL,
  log_ids    bigint[] NOT NULL,
  -- The newest event's time: retention removes a whole batch once it is old.
  max_at     bigint   NOT NULL,
  CHECK ((pos IS NULL) = (last_pos IS NULL) AND (pos IS NULL OR last_pos = pos + n - 1))
) WITH (toast_tuple_target = 8160, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
CREATE UNIQUE INDEX uq_event_batches_last_pos ON event_batches (last_pos);
CREATE INDEX ix_event_batches_unsequenced ON event_batches (id) WHERE pos IS NULL;
CREATE INDEX ix_event_batches_max_at ON event_batches (max_at);

INSERT INTO event_batches (pos, last_pos, n, kinds, ats, task_ids, statuses, queues, types, worker_ids, log_ids, max_at)
SELECT pos, pos, 1, ARRAY[kind], ARRAY[at], ARRAY[task_id], ARRAY[status], ARRAY[queue], ARRAY[type], ARRAY[worker_id], ARRAY[log_id], at
  FROM task_events ORDER BY pos NULLS LAST, id;

DROP FUNCTION sequence_events(integer);
DROP TABLE task_events;

CREATE VIEW task_events AS
SELECT b.id AS batch_id, e.o::integer AS ord, b.pos + e.o - 1 AS pos,
       e.kind, e.at, e.task_id, e.status, e.queue, e.type, e.worker_id, e.log_id
  FROM event_batches b
  CROSS JOIN LATERAL unnest(b.kinds, b.ats, b.task_ids, b.statuses, b.queues, b.types, b.worker_ids, b.log_ids)
       WITH ORDINALITY AS e(kind, at, task_id, status, queue, type, worker_id, log_id, o);

-- Numbers up to max_batches committed, unnumbered batches in id order, then returns up to
-- page events after the position "after", in order; numbered is how many batches this
-- call numbered (on every row; no row when there is nothing after "after"). When it
-- numbered any and channel is not NULL, it notifies channel with payload. Each
-- statement takes a fresh snapshot (READ COMMITTED, a volatile function): the batches are
-- chosen only once the lock on event_sequence is held, so a sequencer that waited for
-- another numbers only the rest, and the read sees what this call numbered.
CREATE FUNCTION feed_step(after bigint, max_batches integer, page integer, channel text, payload text)
RETURNS TABLE (id bigint, kind text, at bigint, task_id bigint, status text, queue text, type text, worker_id text, log_id bigint, numbered integer)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
  base bigint;
  done integer := 0;
  total bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM event_batches b WHERE b.pos IS NULL) THEN
    SELECT s.last_pos INTO base FROM event_sequence s WHERE s.id = 1 FOR UPDATE;
    WITH batch AS (
      SELECT b.id, b.n, sum(b.n) OVER (ORDER BY b.id) AS upto
        FROM event_batches b WHERE b.pos IS NULL ORDER BY b.id LIMIT max_batches
    ), u AS (
      UPDATE event_batches e SET pos = base + batch.upto - batch.n + 1, last_pos = base + batch.upto
        FROM batch WHERE e.id = batch.id RETURNING e.n
    )
    SELECT count(*), coalesce(sum(u.n), 0) INTO done, total FROM u;
    IF done > 0 THEN
      UPDATE event_sequence s SET last_pos = base + total WHERE s.id = 1;
      -- The other instances' wake-up, sent when this numbering commits. Sequencers take
      -- turns on event_sequence already, so the NOTIFY's commit lock costs no writer a wait.
      IF channel IS NOT NULL THEN
        PERFORM pg_notify(channel, payload);
      END IF;
    END IF;
  END IF;
  RETURN QUERY
    SELECT b.pos + e.o - 1, e.kind, e.at, e.task_id, e.status, e.queue, e.type, e.worker_id, e.log_id, done
      FROM (SELECT * FROM event_batches b WHERE b.last_pos > after ORDER BY b.last_pos LIMIT page + 1) b
      CROSS JOIN LATERAL unnest(b.kinds, b.ats, b.task_ids, b.statuses, b.queues, b.types, b.worker_ids, b.log_ids)
           WITH ORDINALITY AS e(kind, at, task_id, status, queue, type, worker_id, log_id, o)
     WHERE b.pos + e.o - 1 > after
     ORDER BY b.last_pos, e.o
     LIMIT page;
END
$$;
`;

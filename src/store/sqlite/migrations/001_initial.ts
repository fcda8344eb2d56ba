/**
 * 001: tasks, workers, logs, dependencies, concurrency limits and the event outbox.
 *
 * Times are INTEGER milliseconds since the epoch: compact in indexes, compared without
 * parsing, and the same in every adapter.
 */
export const sql = /* sql */ `
CREATE TABLE tasks (
  id               INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids of cleaned-up tasks are never handed out again
  queue            TEXT    NOT NULL DEFAULT 'default',
  type             TEXT    NOT NULL CHECK (length(type) > 0),
  priority         INTEGER NOT NULL DEFAULT 100,      -- lower runs first
  payload          TEXT    NOT NULL CHECK (json_valid(payload)),
  compatibility    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(compatibility)),
  status           TEXT    NOT NULL CHECK (status IN ('BLOCKED','QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  run_after        INTEGER NOT NULL,
  lease_until      INTEGER,
  lease_token      TEXT,
  locked_by        TEXT,
  started_at       INTEGER,
  finished_at      INTEGER,
  progress         REAL CHECK (progress IS NULL OR (progress >= 0 AND progress <= 1)),
  progress_message TEXT,
  result           TEXT CHECK (result IS NULL OR json_valid(result)),
  error_message    TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  idempotency_key  TEXT,
  correlation_id   TEXT,
  timeout_seconds  INTEGER CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
  timeout_at       INTEGER,                           -- started_at + timeout_seconds while RUNNING
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  region           TEXT GENERATED ALWAYS AS (json_extract(compatibility, '$.region')) VIRTUAL,
  format           TEXT GENERATED ALWAYS AS (json_extract(payload, '$.format')) VIRTUAL
);

-- Claim indexes. Each is partial on QUEUED, so it holds only claimable rows and stays
-- small however many finished tasks the table keeps. Their leading columns are exactly
-- the ORDER BY of a claim strategy, so a claim walks the index from its first entry and
-- stops after LIMIT rows: no sort, whatever the queue's length.
--   PRIORITY and WEIGHTED_RANDOM: (queue, priority, id)   FIFO and LIFO: (queue, id)
-- and the same with type, for workers that claim only some types (one walk per type,
-- merged in the engine, because an IN list over type would force a sort).
-- The trailing due time and type let a walk skip delayed tasks and excluded types on
-- the index entry, without reading the row. (Region and format are not added: SQLite
-- would not read virtual columns from an index anyway, and each copy costs a
-- json_extract on every insert.)
CREATE INDEX ix_tasks_claim_priority      ON tasks (queue, priority, id, run_after, type) WHERE status = 'QUEUED';
CREATE INDEX ix_tasks_claim_fifo          ON tasks (queue, id, run_after, type)           WHERE status = 'QUEUED';
CREATE INDEX ix_tasks_claim_type_priority ON tasks (queue, type, priority, id, run_after) WHERE status = 'QUEUED';
CREATE INDEX ix_tasks_claim_type_fifo     ON tasks (queue, type, id, run_after)           WHERE status = 'QUEUED';

-- RUNNING rows are few (bounded by worker concurrency): one small index serves the
-- concurrency-limit counts, the sweeper and a worker's current tasks.
CREATE INDEX ix_tasks_running ON tasks (queue, type) WHERE status = 'RUNNING';

-- Listing, stats and cleanup.
CREATE INDEX ix_tasks_status_id         ON tasks (status, id);
CREATE INDEX ix_tasks_queue_status_type ON tasks (queue, status, type);
CREATE INDEX ix_tasks_finished          ON tasks (finished_at) WHERE finished_at IS NOT NULL;
-- Partial: most tasks name no region or format, and those cost no index entry. A filter
-- "region IN (...)" implies "region IS NOT NULL", so these still serve it.
CREATE INDEX ix_tasks_region            ON tasks (region) WHERE region IS NOT NULL;
CREATE INDEX ix_tasks_format            ON tasks (format) WHERE format IS NOT NULL;
CREATE INDEX ix_tasks_correlation       ON tasks (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE UNIQUE INDEX uq_tasks_idempotency ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE workers (
  id           TEXT    PRIMARY KEY,
  capabilities TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(capabilities)),
  status       TEXT    NOT NULL CHECK (status IN ('ACTIVE','STALE','STOPPED')),
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE task_logs (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES tasks (id),
  at      INTEGER NOT NULL,
  level   TEXT    NOT NULL CHECK (level IN ('DEBUG','INFO','WARN','ERROR')),
  message TEXT    NOT NULL,
  details TEXT CHECK (details IS NULL OR json_valid(details))
);
CREATE INDEX ix_task_logs_task ON task_logs (task_id, id);

CREATE TABLE task_dependencies (
  task_id       INTEGER NOT NULL REFERENCES tasks (id),
  depends_on_id INTEGER NOT NULL REFERENCES tasks (id),
  PRIMARY KEY (task_id, depends_on_id)
) WITHOUT ROWID;
CREATE INDEX ix_task_dependencies_depends_on ON task_dependencies (depends_on_id);

-- type '' stands for the whole queue (NULL cannot take part in a primary key).
CREATE TABLE concurrency_limits (
  queue       TEXT    NOT NULL,
  type        TEXT    NOT NULL DEFAULT '',
  max_running INTEGER NOT NULL CHECK (max_running >= 0),
  PRIMARY KEY (queue, type)
) WITHOUT ROWID;

-- The outbox. AUTOINCREMENT keeps ids (the subscription cursors) increasing even after
-- the table has been trimmed empty. Rows carry queue, type and status so that
-- subscribers can filter without reading the task.
CREATE TABLE task_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  kind      TEXT    NOT NULL,
  at        INTEGER NOT NULL,
  task_id   INTEGER,
  status    TEXT,
  queue     TEXT,
  type      TEXT,
  worker_id TEXT,
  log_id    INTEGER
);
`;

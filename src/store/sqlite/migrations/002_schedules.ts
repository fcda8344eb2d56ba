/** 002: recurring schedules (seed 001's job definitions). */
export const sql = /* sql */ `
CREATE TABLE schedules (
  name                 TEXT    PRIMARY KEY,
  cron                 TEXT,
  interval_seconds     INTEGER CHECK (interval_seconds IS NULL OR interval_seconds > 0),
  timezone             TEXT    NOT NULL DEFAULT 'UTC',
  enabled              INTEGER NOT NULL DEFAULT 1,
  task_type            TEXT    NOT NULL,
  task_payload         TEXT    NOT NULL CHECK (json_valid(task_payload)),
  task_queue           TEXT    NOT NULL DEFAULT 'default',
  task_priority        INTEGER NOT NULL DEFAULT 100,
  task_compatibility   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(task_compatibility)),
  task_max_attempts    INTEGER NOT NULL DEFAULT 5,
  task_timeout_seconds INTEGER,
  anchor_at            INTEGER NOT NULL,   -- interval fires sit on a grid from here
  next_run_at          INTEGER,
  last_run_at          INTEGER,
  last_task_id         INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  CHECK ((cron IS NULL) <> (interval_seconds IS NULL))
) WITHOUT ROWID;
CREATE INDEX ix_schedules_due ON schedules (next_run_at) WHERE enabled = 1;
`;

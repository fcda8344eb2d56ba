/** 003: API tokens (stored as hashes) and who enqueued each task. */
export const sql = /* sql */ `
CREATE TABLE api_tokens (
  id         TEXT    PRIMARY KEY,
  name       TEXT    NOT NULL,
  role       TEXT    NOT NULL CHECK (role IN ('admin','producer','worker','viewer')),
  worker_id  TEXT,
  token_hash TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  CHECK (role <> 'worker' OR worker_id IS NOT NULL)
) WITHOUT ROWID;

-- The token id of the producer that enqueued the task: producers may cancel only their own.
ALTER TABLE tasks ADD COLUMN created_by TEXT;
`;

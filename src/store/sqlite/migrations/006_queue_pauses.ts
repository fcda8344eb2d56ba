/**
 * 006: paused queues. A row pauses a whole queue (type '') or one type in it: claims of
 * what it names hand out nothing until the row is gone; enqueues go on. The claim reads
 * these rows in the same statement as the queue's concurrency limits.
 */
export const sql = /* sql */ `
CREATE TABLE queue_pauses (
  queue     TEXT    NOT NULL,
  type      TEXT    NOT NULL DEFAULT '',
  paused_at INTEGER NOT NULL,
  PRIMARY KEY (queue, type)
) WITHOUT ROWID;
`;

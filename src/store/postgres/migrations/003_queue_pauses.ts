/**
 * 003: paused queues. A row pauses a whole queue (type '') or one type in it: claims of
 * what it names hand out nothing until the row is gone; enqueues go on. The claim reads
 * these rows in the same statement as the queue's concurrency limits.
 */
export const sql = /* sql */ `
CREATE TABLE queue_pauses (
  queue     text   NOT NULL,
  type      text   NOT NULL DEFAULT '',
  paused_at bigint NOT NULL,
  PRIMARY KEY (queue, type)
);
`;

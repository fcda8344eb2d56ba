/**
 * Defaults and limits of the queue: the one source that the engine, every storage
 * driver, the server's configuration, GraphQL descriptions and the CLI import, so that
 * "priority 100" or "a 30-second lease" is written once.
 */

/** What a task, claim or server gets when it does not say. */
export const DEFAULTS = {
  /** The database a server or command opens when none is named. */
  dbPath: './data/taskwire.db',
  queue: 'default',
  /** Lower runs first. */
  priority: 100,
  maxAttempts: 5,
  leaseSeconds: 30,
  /** Full-jitter backoff: the n-th retry waits up to min(cap, base * 2^(n-1)). */
  backoffBaseMs: 1_000,
  backoffCapMs: 3_600_000,
  /** A worker without a heartbeat for this long becomes STALE. */
  staleWorkerAfterMs: 60_000,
  maxPayloadBytes: 256 * 1024,
  /** Tasks a claim takes when it gives no limit. */
  claimLimit: 1,
  /** Page size of a task list that gives none. */
  taskPageSize: 50,
  /** Page size of a log list that gives none. */
  pageSize: 100,
  /** Retention of finished tasks and events. */
  retentionMs: 7 * 86_400_000,
};

/** The bounds input is checked against (VALIDATION beyond them). */
export const LIMITS = {
  nameLength: 200,
  keyLength: 255,
  messageLength: 10_000,
  errorLength: 10_000,
  maxAttempts: 1_000,
  priority: 1_000_000_000,
  leaseSeconds: 86_400,
  delaySeconds: 366 * 86_400,
  timeoutSeconds: 7 * 86_400,
  claimLimit: 1_000,
  /** Most tasks one batch call (enqueueTasks, completeTasks) may carry. */
  batch: 1_000,
  dependsOn: 100,
  pageSize: 500,
  /** Largest capabilities, compatibility or log details object, in bytes of JSON. */
  smallJsonBytes: 64 * 1024,
  /** A task's metadata, after a merge. */
  metadataBytes: 64 * 1024,
  /** Events younger than this are never trimmed: a subscriber a moment behind still finds them. */
  eventGraceMs: 60_000,
};

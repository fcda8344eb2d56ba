/**
 * Terminology
 *
 * - task: one unit of work in a queue. It has a `type` (what to run) and a JSON
 *   `payload` (what to run it on).
 * - queue: a named lane of tasks. Workers claim from exactly one queue.
 * - lease: a claim on a RUNNING task, held by one worker until `leaseUntil`, proven by
 *   a random `leaseToken`. Every later call about the task (progress, complete, fail)
 *   must present the token; a stale token gets LEASE_LOST. This fences off a worker
 *   whose lease lapsed while another worker took the task over.
 * - attempt: one claim of a task. A failed attempt is retried with backoff until
 *   `maxAttempts`; then the task is FAILED (the dead-letter set).
 * - outbox event: a row in `task_events`, written in the same transaction as the change
 *   it describes. Its id is the cursor that subscriptions resume from.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in the store; the API
 * layer turns them into ISO-8601 strings.
 */

import type { EventBus } from '../events/bus.js';

export type TaskStatus = 'BLOCKED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const TASK_STATUSES: readonly TaskStatus[] = ['BLOCKED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const FINISHED_STATUSES: readonly TaskStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export type ClaimStrategy = 'FIFO' | 'LIFO' | 'PRIORITY' | 'WEIGHTED_RANDOM';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
export type WorkerStatus = 'ACTIVE' | 'STALE' | 'STOPPED';

export type TaskEventKind =
  | 'ENQUEUED'
  | 'UNBLOCKED'
  | 'CLAIMED'
  | 'PROGRESS'
  | 'SUCCEEDED'
  | 'RETRY_SCHEDULED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'CANCEL_REQUESTED'
  | 'CANCELLED'
  | 'LEASE_EXPIRED'
  | 'REQUEUED'
  | 'RELEASED'
  | 'UPDATED'
  | 'METADATA';

export const TASK_EVENT_KINDS: readonly TaskEventKind[] = [
  'ENQUEUED',
  'UNBLOCKED',
  'CLAIMED',
  'PROGRESS',
  'SUCCEEDED',
  'RETRY_SCHEDULED',
  'FAILED',
  'TIMED_OUT',
  'CANCEL_REQUESTED',
  'CANCELLED',
  'LEASE_EXPIRED',
  'REQUEUED',
  'RELEASED',
  'UPDATED',
  'METADATA',
];

/** Outbox rows that are not task events but travel the same way (cross-process, in order). */
export type InternalEventKind = 'LOG_ADDED' | 'WORKER_UPDATED' | 'QUEUE_UPDATED';

export type JsonObject = { [key: string]: unknown };

export interface Task {
  id: number;
  queue: string;
  type: string;
  priority: number;
  payload: JsonObject;
  compatibility: JsonObject;
  region: string | null;
  format: string | null;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  runAfter: number;
  leaseUntil: number | null;
  lockedBy: string | null;
  progress: number | null;
  progressMessage: string | null;
  result: unknown;
  errorMessage: string | null;
  cancelRequested: boolean;
  idempotencyKey: string | null;
  correlationId: string | null;
  timeoutSeconds: number | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Structured state its worker reports while it runs (updateTaskMetadata); kept across attempts. */
  metadata: JsonObject | null;
}

export interface Worker {
  id: string;
  capabilities: JsonObject;
  status: WorkerStatus;
  startedAt: number;
  heartbeatAt: number;
}

export interface TaskLog {
  id: number;
  taskId: number;
  at: number;
  level: LogLevel;
  message: string;
  details: unknown;
}

/** One outbox row. `id` is the resume cursor. */
export interface StoredEvent {
  id: number;
  kind: TaskEventKind | InternalEventKind;
  at: number;
  taskId: number | null;
  status: TaskStatus | null;
  queue: string | null;
  type: string | null;
  workerId: string | null;
  logId: number | null;
}

export interface EnqueueInput {
  type: string;
  payload: unknown;
  queue?: string | null;
  priority?: number | null;
  compatibility?: unknown;
  /** Absolute time (ms). Mutually exclusive with delaySeconds. */
  runAfter?: number | null;
  delaySeconds?: number | null;
  maxAttempts?: number | null;
  timeoutSeconds?: number | null;
  idempotencyKey?: string | null;
  correlationId?: string | null;
  dependsOn?: readonly number[] | null;
  /**
   * When idempotencyKey names a task already: RETURN_EXISTING (the default) returns it as
   * it is; REPLACE gives a still-QUEUED (or BLOCKED) one this payload (and priority, if given);
   * DEBOUNCE does that and moves its runAfter out to this enqueue's, at most
   * maxDelaySeconds after the task was first enqueued. A task that started is returned as is.
   */
  onDuplicate?: DuplicatePolicy | null;
  /** DEBOUNCE's cap: the task runs at most this long after its first enqueue. */
  maxDelaySeconds?: number | null;
  /** Id of the API token that enqueued it (set by the API layer, not by clients). */
  createdBy?: string | null;
}

export type DuplicatePolicy = 'RETURN_EXISTING' | 'REPLACE' | 'DEBOUNCE';
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['RETURN_EXISTING', 'REPLACE', 'DEBOUNCE'];

export interface EnqueueResult {
  task: Task;
  created: boolean;
}

export interface ClaimInput {
  workerId: string;
  queue?: string | null;
  types?: readonly string[] | null;
  capabilities?: unknown;
  limit?: number | null;
  leaseSeconds?: number | null;
  strategy?: ClaimStrategy | null;
}

export interface ClaimedTask {
  task: Task;
  leaseToken: string;
  leaseUntil: number;
}

export interface LeaseRef {
  taskId: number;
  leaseToken: string;
  /** When set, the lease must also be held by this worker (a worker token's bound id). */
  holder?: string | null;
}

export interface HeartbeatInput {
  workerId: string;
  leases?: readonly LeaseRef[] | null;
  extendSeconds?: number | null;
  capabilities?: unknown;
}

export interface LeaseState {
  taskId: number;
  leaseUntil: number | null;
  cancelRequested: boolean;
  lost: boolean;
}

export interface HeartbeatResult {
  worker: Worker;
  leases: LeaseState[];
}

export interface CompleteInput extends LeaseRef {
  result?: unknown;
}

export interface BulkResult {
  /** Tasks the action changed (deleted, for delete). */
  changed: number;
  /** Tasks read but left alone: they changed meanwhile, or were asked to cancel already. */
  skipped: number;
  /** More tasks match: call again with `after: lastId`. */
  hasMore: boolean;
  /** The last task id this call read (null when it read none). */
  lastId: number | null;
}

/** An edit of a task that is not running: the fields given change, the others stay. */
export interface TaskEdit {
  payload?: unknown;
  priority?: number | null;
  /** ms since the epoch. */
  runAfter?: number | null;
  maxAttempts?: number | null;
}

/** The lease holder's metadata update: SET replaces, MERGE (the default) merges (JSON Merge Patch). */
export interface MetadataInput extends LeaseRef {
  metadata: unknown;
  mode?: 'SET' | 'MERGE' | null;
}

/** A lease given back before its task started (a worker's prefetched task, at stop). */
export type ReleaseInput = LeaseRef;

export interface FailInput extends LeaseRef {
  error: string;
  retryable?: boolean | null;
  retryAfterSeconds?: number | null;
}

export interface ProgressInput extends LeaseRef {
  progress: number;
  message?: string | null;
}

export interface AppendLogInput {
  taskId: number;
  level: LogLevel;
  message: string;
  details?: unknown;
  leaseToken?: string | null;
  holder?: string | null;
}

export interface TaskFilter {
  status?: readonly TaskStatus[] | null;
  queue?: string | null;
  type?: readonly string[] | null;
  region?: readonly string[] | null;
  format?: readonly string[] | null;
  correlationId?: string | null;
  idempotencyKey?: string | null;
  createdAfter?: number | null;
  createdBefore?: number | null;
}

export type TaskOrderField = 'CREATED_AT' | 'PRIORITY' | 'UPDATED_AT';
export interface TaskOrder {
  field: TaskOrderField;
  direction: 'ASC' | 'DESC';
}

export interface ListTasksInput {
  filter?: TaskFilter | null;
  orderBy?: TaskOrder | null;
  first?: number | null;
  /** Opaque cursor from a previous page's `endCursor`. */
  after?: string | null;
}

export interface Page<T> {
  items: { cursor: string; node: T }[];
  hasNextPage: boolean;
  totalCount?: number;
}

export interface ListLogsInput {
  first?: number | null;
  after?: string | null;
}

export interface TypeStats {
  type: string;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
}

export interface QueueStats {
  queue: string | null;
  counts: { status: TaskStatus; count: number }[];
  byType: TypeStats[];
  oldestQueuedAgeSeconds: number | null;
  activeWorkers: number;
  succeededLastMinute: number;
  failedLastMinute: number;
}

export interface BackupResult {
  /** Size of the copy. */
  bytes: number;
  integrity: string[];
  tasks: number;
  schemaVersion: number;
}

export interface SweepResult {
  expired: number;
  timedOut: number;
  staleWorkers: number;
}

export interface CleanupResult {
  tasks: number;
  logs: number;
  events: number;
}

export interface ConcurrencyLimit {
  queue: string;
  type: string | null;
  limit: number | null;
}

/** A queue, or one type in it (type null: the whole queue), paused or not. */
export interface QueuePause {
  queue: string;
  type: string | null;
  paused: boolean;
  /** When it was paused; null when it is not. */
  pausedAt: number | null;
}

export interface TaskTemplate {
  type: string;
  payload: unknown;
  queue?: string | null;
  priority?: number | null;
  compatibility?: unknown;
  maxAttempts?: number | null;
  timeoutSeconds?: number | null;
}

export interface UpsertScheduleInput {
  name: string;
  /** Exactly one of cron and intervalSeconds. */
  cron?: string | null;
  intervalSeconds?: number | null;
  /** IANA name; default UTC. */
  timezone?: string | null;
  enabled?: boolean | null;
  task: TaskTemplate;
}

export interface Schedule {
  name: string;
  cron: string | null;
  intervalSeconds: number | null;
  timezone: string;
  enabled: boolean;
  task: Required<TaskTemplate>;
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastTaskId: number | null;
}

export interface FireResult {
  /** Tasks enqueued by this call. */
  fired: { schedule: string; taskId: number; fireAt: number; missed: number }[];
  /** Fires skipped because the schedule's template no longer passes validation. */
  failed: { schedule: string; fireAt: number; error: string }[];
}

export type Role = 'admin' | 'producer' | 'worker' | 'viewer';

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  workerId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/** What a store says about itself: /health, the server's start-up log, `taskwire migrate`. */
export interface StoreInfo {
  /** Which back end holds the data. */
  kind: 'sqlite' | 'postgres';
  /** Where the data lives: a file path or ':memory:' (SQLite); the URL without its password (PostgreSQL). */
  location: string;
  schemaVersion: number;
  /** The newest schema version this Taskwire's driver knows (migrations bring a file up to it). */
  latestSchemaVersion: number;
  /** The back end's settings as read back after opening (SQLite: its PRAGMAs). */
  settings: Record<string, string | number>;
}

export interface CheckpointResult {
  /** Another connection held the log back, so it was not emptied. */
  busy: boolean;
  logBytesBefore: number;
  logBytesAfter: number;
}

/**
 * What a back end offers besides the queue's operations. Members a back end does not
 * have are absent (a capability check is `if (m.vacuum)`): the CLI says the command does
 * not apply, the server's upkeep skips the job.
 */
export interface Maintenance {
  /** Bytes on disk by part ({ db, wal } on SQLite; {} in memory): metrics. */
  sizes(): Promise<Record<string, number>>;
  /** The back end's own consistency check: ['ok'] when sound. */
  integrityCheck(): Promise<string[]>;
  /** Refreshes the query planner's statistics (SQLite: PRAGMA optimize). Upkeep runs it. */
  optimize?(): Promise<void>;
  /**
   * Moves the write-ahead log into the database and empties it (SQLite). With
   * `ifLargerThan`, only when the log is larger than that many bytes (else null): upkeep.
   */
  checkpoint?(options?: { ifLargerThan?: number }): Promise<CheckpointResult | null>;
  /** Rewrites the database to give free pages back to the file system; holds the write lock. */
  vacuum?(): Promise<{ bytesBefore: number; bytesAfter: number }>;
  /**
   * An online copy to one new self-contained file, then checked: the copy's integrity
   * result, task count and schema version. The destination must not exist.
   */
  backup?(destination: string): Promise<BackupResult>;
}

/**
 * The engine: every operation on the queue, one transaction each. GraphQL resolvers, the
 * scheduler and the CLI talk only to this. It is asynchronous so that a PostgreSQL
 * adapter can implement it unchanged; the SQLite adapter answers synchronously inside.
 */
export interface TaskStore {
  readonly info: StoreInfo;
  /** Jobs that exist only on some back ends (vacuum, WAL checkpoint, backup). */
  readonly maintenance: Maintenance;
  /** Every committed outbox row, from this process and every other writer, in order. */
  readonly bus: EventBus;

  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]>;
  claim(input: ClaimInput): Promise<ClaimedTask[]>;
  heartbeat(input: HeartbeatInput): Promise<HeartbeatResult>;
  reportProgress(input: ProgressInput): Promise<Task>;
  complete(input: CompleteInput): Promise<Task>;
  completeMany(inputs: readonly CompleteInput[]): Promise<Task[]>;
  fail(input: FailInput): Promise<Task>;
  /** The lease holder sets or merges its task's metadata (kept across attempts); a METADATA event. */
  updateMetadata(input: MetadataInput): Promise<Task>;
  /**
   * Gives leased tasks that never started back to the queue: QUEUED at once, the attempt
   * not counted (a task whose cancel was asked is CANCELLED instead). Leases no longer
   * current are skipped; returns the tasks it changed, in the order given. One transaction.
   */
  release(inputs: readonly ReleaseInput[]): Promise<Task[]>;
  /** Fails every attempt of the batch in one transaction, or none (the first lease that is not current rejects it). */
  failMany(inputs: readonly FailInput[]): Promise<Task[]>;
  /** `onlyCreatedBy`: refuse (FORBIDDEN) unless the task was enqueued with this token id. */
  cancel(id: number, reason?: string | null, onlyCreatedBy?: string | null): Promise<Task>;
  /** FAILED or CANCELLED back to QUEUED (or BLOCKED), attempts reset; with `payload`, run with that payload instead. */
  retry(id: number, options?: { payload?: unknown }): Promise<Task>;
  /**
   * Changes a QUEUED, BLOCKED or FAILED task's payload, priority, runAfter or maxAttempts
   * (an UPDATED event); other statuses give INVALID_STATE. `onlyCreatedBy` as for cancel.
   */
  update(id: number, edit: TaskEdit, onlyCreatedBy?: string | null): Promise<Task>;
  /**
   * Cancels (QUEUED, BLOCKED, RUNNING), retries (FAILED, CANCELLED) or deletes (finished)
   * at most `limit` (default 500, at most 1,000) of the tasks `filter` matches with ids
   * above `after`, in id order, in one transaction; `hasMore` says to call again with
   * `after` = the `lastId` returned.
   */
  bulk(action: 'cancel' | 'retry' | 'delete', filter: TaskFilter | null, options?: { limit?: number | null; after?: number | null }): Promise<BulkResult>;
  appendLog(input: AppendLogInput): Promise<TaskLog>;

  getTask(id: number): Promise<Task | null>;
  getTasks(ids: readonly number[]): Promise<(Task | null)[]>;
  getTaskByIdempotencyKey(key: string): Promise<Task | null>;
  listTasks(input: ListTasksInput): Promise<Page<Task>>;
  countTasks(filter?: TaskFilter | null): Promise<number>;
  /** Ids of the tasks each given task depends on, in the order given. */
  dependencyIds(taskIds: readonly number[]): Promise<number[][]>;
  /** Ids of the tasks that depend on each given task. */
  dependentIds(taskIds: readonly number[]): Promise<number[][]>;
  listLogs(taskId: number, input?: ListLogsInput): Promise<Page<TaskLog>>;
  /** Logs of many tasks at once (first `perTask` of each), for batch loading. */
  logsForTasks(taskIds: readonly number[], perTask: number): Promise<TaskLog[][]>;
  getLog(id: number): Promise<TaskLog | null>;
  getWorker(id: string): Promise<Worker | null>;
  getWorkers(ids: readonly string[]): Promise<(Worker | null)[]>;
  listWorkers(status?: readonly WorkerStatus[] | null): Promise<Worker[]>;
  /** RUNNING tasks held by each given worker. */
  tasksLockedBy(workerIds: readonly string[]): Promise<Task[][]>;
  stats(queue?: string | null): Promise<QueueStats>;
  /** Task counts by queue, type and status (metrics). */
  taskCounts(): Promise<{ queue: string; type: string; status: TaskStatus; count: number }[]>;

  upsertSchedule(input: UpsertScheduleInput): Promise<Schedule>;
  setScheduleEnabled(name: string, enabled: boolean): Promise<Schedule>;
  deleteSchedule(name: string): Promise<boolean>;
  listSchedules(): Promise<Schedule[]>;
  /**
   * Enqueues one task for every schedule that is due, exactly once per fire (an
   * idempotency key per schedule and fire time), and moves each to its next fire. A
   * schedule that missed several fires (downtime) runs once and says so in the log.
   */
  fireDueSchedules(): Promise<FireResult>;

  setConcurrencyLimit(limit: ConcurrencyLimit): Promise<ConcurrencyLimit>;
  listConcurrencyLimits(): Promise<ConcurrencyLimit[]>;
  /** Pauses a queue (type null) or one type in it: no claims hand it out until resumed; enqueues go on. Idempotent. */
  pauseQueue(input: { queue: string; type?: string | null }): Promise<QueuePause>;
  resumeQueue(input: { queue: string; type?: string | null }): Promise<QueuePause>;
  /** Every pause in force. */
  listPauses(): Promise<QueuePause[]>;

  /** Outbox rows with id > after, oldest first. */
  eventsAfter(after: number, limit: number): Promise<StoredEvent[]>;
  /** The newest outbox id (0 when empty). */
  lastEventId(): Promise<number>;

  sweep(): Promise<SweepResult>;
  /**
   * `background`: the server's upkeep, which waits for locks only briefly (BUSY instead of
   * a stalled event loop when another process holds the database).
   */
  cleanup(olderThanMs: number, options?: { background?: boolean }): Promise<CleanupResult>;
  trimEvents(olderThanMs: number, keepAtMost: number, options?: { background?: boolean }): Promise<number>;

  /** Creates a token; the returned secret is never stored and cannot be shown again. */
  createToken(input: { name: string; role: Role; workerId?: string | null }): Promise<{ token: string; info: TokenInfo }>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(id: string): Promise<TokenInfo>;
  /** The live (not revoked) token this secret belongs to, or null. */
  authenticate(token: string): Promise<TokenInfo | null>;
  /**
   * Whether access control is on: once any token has been created, it stays on, even
   * when every token is revoked (revoking the last token must not open the server).
   */
  hasTokens(): Promise<boolean>;

  /** Looks for outbox rows other writers committed, now; resolves once they are on the bus. */
  pollOutbox(): Promise<void>;
  close(): Promise<void>;
}

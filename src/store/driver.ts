/**
 * The seam between the engine and a database dialect.
 *
 * Terminology
 *
 * - driver: one back end (SQLite today). It owns the connection, the transactions, the
 *   event feed and its maintenance jobs, and implements the operations below.
 * - operation (`Ops`): one named statement, or one fixed batch of the same statement. Its
 *   name says what it changes, under which guard, and how many rows: `finishIfLeased`
 *   changes the task only while the caller's lease is current and returns null otherwise.
 *   Every dialect has the same names; the engine never sees SQL.
 * - lock operation: a read that a driver with several writers must turn into a row or
 *   key lock (`lockTask`: SELECT ... FOR UPDATE; `lockQueue`: an advisory transaction
 *   lock). SQLite runs them as plain reads: BEGIN IMMEDIATE already serializes writers.
 * - unit: one engine operation (enqueue, claim, complete ...), written once as a generator
 *   that yields operation calls (engine/unit.ts). A driver runs a unit inside one
 *   transaction: SQLite steps it synchronously (so group commit and savepoints stay as
 *   they are); an asynchronous driver awaits each call between BEGIN and COMMIT.
 * - feed: the committed outbox rows of every writer, published to the bus in order.
 *
 * Each operation's guard is what makes a read-then-write path correct without a single
 * writer: the comment on the engine side says which guarantee each path relies on.
 */
import type { EventBus } from '../events/bus.js';
import type { Candidate, LimitRule, Order } from './engine/rules/claiming.js';
import type {
  InternalEventKind,
  LogLevel,
  Maintenance,
  Role,
  StoredEvent,
  StoreInfo,
  Task,
  TaskEventKind,
  TaskFilter,
  TaskLog,
  TaskStatus,
  TokenInfo,
  Worker,
  WorkerStatus,
} from './types.js';
import type { Unit } from './engine/unit.js';

/** Every column an enqueue sets. JSON values arrive as text, already checked. */
export interface NewTask {
  queue: string;
  type: string;
  priority: number;
  payload: string;
  compatibility: string;
  status: TaskStatus;
  maxAttempts: number;
  runAfter: number;
  idempotencyKey: string | null;
  correlationId: string | null;
  timeoutSeconds: number | null;
  errorMessage: string | null;
  finishedAt: number | null;
  createdBy: string | null;
  /**
   * Task.region and Task.format as the engine reads them from compatibility and payload
   * (scalarText). A dialect without JSON columns stores them; SQLite derives its own.
   */
  region: string | null;
  format: string | null;
  now: number;
}

/** A lease as a caller presents it; `holder` (a worker id) narrows it to that worker. */
export interface LeaseRef {
  taskId: number;
  leaseToken: string;
  holder: string | null;
}

/** One task a claim takes, with the lease token made for it. */
export interface ClaimOf {
  taskId: number;
  leaseToken: string;
}

/** What every lease of one claim shares. */
export interface NewLease {
  leaseUntil: number;
  workerId: string;
  now: number;
}

/** Who holds a task now: what the lease-miss diagnosis reads (rules/leases.ts). */
export interface LeaseHolder {
  status: TaskStatus;
  leaseToken: string | null;
  lockedBy: string | null;
}

/** How an attempt that did not succeed ends, as rules/attempts.ts decided it. */
export interface EndedAttempt {
  status: 'QUEUED' | 'FAILED' | 'CANCELLED';
  /** When QUEUED: when it may run again. */
  runAfter: number | null;
  errorMessage: string;
}

/** One walk of the queue in claim order: a single index scan on SQLite. */
export interface ClaimWalk {
  order: Order;
  queue: string;
  /** null: any type. */
  type: string | null;
  /** Restricts priority: one level, or the levels after one (WEIGHTED_RANDOM). */
  priority: { value: number; mode: 'eq' | 'gt' } | null;
  region: string | null;
  formats: readonly string[] | null;
  /** Types that may not be claimed now (their concurrency limit is reached). */
  excluded: readonly string[];
  now: number;
  limit: number;
}

/** An edit as stored: JSON text for the payload; null leaves a field as it is. */
export interface StoredEdit {
  payload: string | null;
  /** payload.format's text (see NewTask.format), with a new payload. */
  format: string | null;
  priority: number | null;
  runAfter: number | null;
  maxAttempts: number | null;
}

export type NewEvent = { kind: TaskEventKind | InternalEventKind; at: number } & Partial<
  Pick<StoredEvent, 'taskId' | 'status' | 'queue' | 'type' | 'workerId' | 'logId'>
>;

export interface NewLog {
  taskId: number;
  at: number;
  level: LogLevel;
  message: string;
  /** JSON text. */
  details: string | null;
}

/** A schedule as stored; the task template's JSON values are text. */
export interface StoredSchedule {
  name: string;
  cron: string | null;
  intervalSeconds: number | null;
  timezone: string;
  enabled: boolean;
  template: {
    type: string;
    payload: string;
    queue: string;
    priority: number;
    compatibility: string;
    maxAttempts: number;
    timeoutSeconds: number | null;
  };
  anchorAt: number;
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastTaskId: number | null;
}

/** A task list query after the engine checked it: keyset paging (rules/paging.ts). */
export interface TaskQuery {
  filter: TaskFilter;
  /** The sort key besides id; null sorts by id alone (creation order). */
  key: 'priority' | 'updated_at' | null;
  desc: boolean;
  /** The last row's sort key from the previous page: [key, id] or [id]. */
  after: readonly number[] | null;
  /** Rows to return (the engine asks for one more than it shows, to know of a next page). */
  limit: number;
}

/** The raw material of queue stats; rules/stats.ts folds it. */
export interface StatsParts {
  grouped: { type: string; status: TaskStatus; count: number }[];
  oldestQueuedCreatedAt: number | null;
  finishedSince: { status: TaskStatus; count: number }[];
  activeWorkers: number;
}

export interface NewToken {
  id: string;
  name: string;
  role: Role;
  workerId: string | null;
  hash: string;
  createdAt: number;
}

/**
 * The operations of a driver, as SQLite answers them (synchronously). A driver whose
 * calls are asynchronous answers the same calls with promises (PostgreSQL's TxOps, which
 * also take the transaction); units run unchanged on both (engine/unit.ts).
 */
export interface Ops {
  // ---- tasks: enqueue
  taskByKey(key: string): Task | null;
  /**
   * Holds these idempotency keys until commit, taken in sorted order (PG: advisory
   * transaction locks; SQLite: nothing). Two batches naming the same keys in different
   * orders would otherwise each wait for the other's uncommitted key: a deadlock.
   */
  lockIdempotencyKeys(keys: readonly string[]): void;
  /** null when another writer took the idempotency key meanwhile (no CONFLICT). */
  insertTaskUnlessKeyTaken(task: NewTask): number | null;
  insertDependencies(taskId: number, dependsOn: readonly number[]): void;
  /** Statuses of these tasks, locked against change until commit (FOR SHARE). */
  lockStatuses(ids: readonly number[]): { id: number; status: TaskStatus }[];
  /** The task, locked for this transaction's change (FOR UPDATE). */
  lockTask(id: number): Task | null;
  /**
   * The task if `ref` is its current lease, locked (FOR UPDATE); null otherwise, and then
   * nothing is locked: a caller with a stale lease never hides the task from claims.
   */
  lockTaskIfLeased(ref: LeaseRef): Task | null;
  dependencyIdsOf(taskId: number): number[];

  // ---- leases and outcomes
  leaseHolder(taskId: number): LeaseHolder | null;
  /**
   * Each of these tasks that is still QUEUED becomes RUNNING under its own lease token;
   * returns the tasks it changed, in the order given. One statement for a whole claim.
   */
  markRunningIfQueued(claims: readonly ClaimOf[], lease: NewLease): Task[];
  /**
   * Extends each lease the worker holds now to `until` (never shortens one); in the place
   * of each, its new deadline and whether a cancel was asked, or null when it is not held.
   * One statement for a worker's whole heartbeat.
   */
  extendLeaseIfHeld(leases: readonly { taskId: number; leaseToken: string }[], workerId: string, until: number): ({ leaseUntil: number; cancelRequested: boolean } | null)[];
  cancelRequestedOf(taskId: number): boolean | null;
  setProgressIfLeased(ref: LeaseRef, progress: number, message: string | null, now: number): Task | null;
  /** Replaces the task's metadata (JSON text) while the lease is current; else null. */
  setMetadataIfLeased(ref: LeaseRef, metadata: string, now: number): Task | null;
  /**
   * SUCCEEDED, for each lease that is current (`results[i]` goes with `refs[i]`); null in
   * the place of each that is not. One statement for a whole batch.
   */
  finishIfLeased(refs: readonly LeaseRef[], results: readonly (string | null)[], now: number): (Task | null)[];
  /**
   * QUEUED again with the attempt uncounted (TRANSITIONS.release), if the lease is current
   * and no cancel was asked; else null.
   */
  releaseIfLeased(ref: LeaseRef, now: number): Task | null;
  /** Ends the attempt only if it is still the one read: RUNNING with this attempt number. */
  endAttemptIfCurrent(taskId: number, attempt: number, end: EndedAttempt, now: number): Task | null;

  // ---- dependencies, cancel, retry
  /** BLOCKED tasks that depend on any of these, locked (FOR UPDATE) before their dependencies are checked; ascending. */
  lockBlockedDependents(taskIds: readonly number[]): number[];
  /** Of these BLOCKED tasks, those whose dependencies have all SUCCEEDED. */
  readyOf(ids: readonly number[]): number[];
  queueIfBlocked(taskId: number, now: number): Task | null;
  cancelIfBlocked(taskId: number, why: string, now: number): Task | null;
  /** BLOCKED or QUEUED (TRANSITIONS.cancelWhileWaiting) to CANCELLED. */
  cancelIfWaiting(taskId: number, why: string, now: number): Task | null;
  requestCancelIfRunning(taskId: number, why: string, now: number): Task | null;
  /** Sets the fields given (null: unchanged) while the task is QUEUED, BLOCKED or FAILED (TRANSITIONS.edit). */
  updateIfEditable(taskId: number, edit: StoredEdit, now: number): Task | null;
  /** FAILED or CANCELLED (TRANSITIONS.retry) back to `status` with a fresh attempt count. */
  resetIfRetryable(taskId: number, status: TaskStatus, now: number): Task | null;
  insertLog(log: NewLog): TaskLog;
  /** An outbox row in this transaction; the feed publishes it after commit. */
  appendEvent(event: NewEvent): void;

  // ---- workers
  /** The common heartbeat: an ACTIVE worker with unchanged capabilities. No event. */
  refreshWorkerIfActive(workerId: string, capabilities: string | null, now: number): boolean;
  /** Holds this worker id until commit, whether or not its row exists yet (PG: an advisory lock; SQLite: nothing). */
  lockWorker(workerId: string): void;
  workerState(workerId: string): { status: WorkerStatus; capabilities: string } | null;
  upsertWorker(workerId: string, capabilities: string | null, now: number): Worker;
  markStaleWorkers(heartbeatBefore: number): string[];

  // ---- claim
  /** Serializes claims on a queue with concurrency limits (an advisory lock; SQLite: nothing). */
  lockQueue(queue: string): void;
  /**
   * The queue's concurrency limits and its pauses ('' for the whole queue, else the paused
   * types), in one statement: a claim reads both, and a queue with neither costs one read.
   */
  queueControls(queue: string): { limits: LimitRule[]; paused: string[] };
  runningCount(queue: string, type: string | null): number;
  /**
   * QUEUED, due, matching tasks in walk order, locked for this claim (PG: FOR UPDATE SKIP
   * LOCKED: rows another claim holds are passed over). Every row it returns should be
   * claimed: one left locked is hidden from other claims until this one commits.
   */
  claimWalk(walk: ClaimWalk): Candidate[];
  /** The same walk without locking: only to learn which priority levels hold work. */
  peekClaimable(walk: ClaimWalk): Candidate[];

  // ---- sweep
  /** RUNNING tasks past their timeout, locked (SKIP LOCKED: another sweeper has the rest). */
  lockLateAttempts(now: number): Task[];
  /** RUNNING tasks whose lease lapsed, locked likewise. */
  lockLapsedLeases(now: number): Task[];

  // ---- schedules
  scheduleByName(name: string): StoredSchedule | null;
  upsertSchedule(schedule: StoredSchedule, now: number): void;
  setScheduleEnabled(name: string, enabled: boolean, nextRunAt: number | null, now: number): void;
  deleteSchedule(name: string): boolean;
  /** Enabled schedules due by `now`, locked (SKIP LOCKED: another instance fires the rest). */
  lockDueSchedules(now: number): StoredSchedule[];
  advanceSchedule(name: string, nextRunAt: number | null, lastRunAt: number, lastTaskId: number | null, now: number): void;

  // ---- concurrency limits, tokens
  setConcurrencyLimit(queue: string, type: string, maxRunning: number): void;
  deleteConcurrencyLimit(queue: string, type: string): void;
  /** Pauses the queue (type '') or one type in it; false when it was paused already. */
  insertPauseUnlessPaused(queue: string, type: string, now: number): boolean;
  /** Resumes it; false when it was not paused. */
  deletePauseIfPaused(queue: string, type: string): boolean;
  insertToken(token: NewToken): void;
  /** Sets revoked_at unless already set; null when there is no such token. */
  revokeToken(id: string, at: number): TokenInfo | null;

  // ---- retention
  finishedTaskIdsBefore(cutoff: number, limit: number): number[];
  /** Deletes the tasks with their logs and dependency edges. */
  deleteTasks(ids: readonly number[]): { tasks: number; logs: number };
  deleteEventsBefore(cutoff: number, limit: number): number;
  /** Deletes events older than `before` beyond the newest `keep`. */
  deleteEventsBeyond(keep: number, before: number): number;

  // ---- reads (no transaction needed; each is one statement)
  task(id: number): Task | null;
  tasks(ids: readonly number[]): (Task | null)[];
  listTasks(query: TaskQuery): Task[];
  countTasks(filter: TaskFilter): number;
  dependencyIds(taskIds: readonly number[]): number[][];
  dependentIds(taskIds: readonly number[]): number[][];
  logsAfter(taskId: number, afterId: number, limit: number): TaskLog[];
  logsForTasks(taskIds: readonly number[], perTask: number): TaskLog[][];
  log(id: number): TaskLog | null;
  workers(ids: readonly string[]): (Worker | null)[];
  listWorkers(status: readonly WorkerStatus[] | null): Worker[];
  tasksLockedBy(workerIds: readonly string[]): Task[][];
  statsParts(queue: string | null, finishedSince: number): StatsParts;
  taskCounts(): { queue: string; type: string; status: TaskStatus; count: number }[];
  listSchedules(): StoredSchedule[];
  listConcurrencyLimits(): { queue: string; type: string; maxRunning: number }[];
  /** Every pause (type '' for a whole queue), by queue and type. */
  listPauses(): { queue: string; type: string; pausedAt: number }[];
  listTokens(): TokenInfo[];
  tokenWithHash(id: string): { info: TokenInfo; hash: string } | null;
  anyToken(): boolean;
  eventsAfter(after: number, limit: number): StoredEvent[];
  lastEventId(): number;
}

export type OpName = keyof Ops;

/**
 * The operations by family. Each dialect implements one family per file
 * (queries/<family>.ts), under the same names.
 */
export type TaskOpName =
  | 'taskByKey'
  | 'lockIdempotencyKeys'
  | 'insertTaskUnlessKeyTaken'
  | 'insertDependencies'
  | 'lockStatuses'
  | 'lockTask'
  | 'lockTaskIfLeased'
  | 'dependencyIdsOf'
  | 'leaseHolder'
  | 'markRunningIfQueued'
  | 'extendLeaseIfHeld'
  | 'cancelRequestedOf'
  | 'setProgressIfLeased'
  | 'setMetadataIfLeased'
  | 'finishIfLeased'
  | 'releaseIfLeased'
  | 'endAttemptIfCurrent'
  | 'lockBlockedDependents'
  | 'readyOf'
  | 'queueIfBlocked'
  | 'cancelIfBlocked'
  | 'cancelIfWaiting'
  | 'requestCancelIfRunning'
  | 'updateIfEditable'
  | 'resetIfRetryable'
  | 'insertLog'
  | 'lockLateAttempts'
  | 'lockLapsedLeases';
export type ClaimOpName =
  | 'lockQueue'
  | 'queueControls'
  | 'runningCount'
  | 'claimWalk'
  | 'peekClaimable';
export type WorkerOpName =
  | 'refreshWorkerIfActive'
  | 'lockWorker'
  | 'workerState'
  | 'upsertWorker'
  | 'markStaleWorkers';
export type ScheduleOpName =
  | 'scheduleByName'
  | 'upsertSchedule'
  | 'setScheduleEnabled'
  | 'deleteSchedule'
  | 'lockDueSchedules'
  | 'advanceSchedule'
  | 'listSchedules';
export type AdminOpName =
  | 'setConcurrencyLimit'
  | 'deleteConcurrencyLimit'
  | 'insertPauseUnlessPaused'
  | 'deletePauseIfPaused'
  | 'listConcurrencyLimits'
  | 'listPauses'
  | 'insertToken'
  | 'revokeToken'
  | 'listTokens'
  | 'tokenWithHash'
  | 'anyToken';
export type OutboxOpName =
  | 'appendEvent'
  | 'eventsAfter'
  | 'lastEventId'
  | 'deleteEventsBefore'
  | 'deleteEventsBeyond'
  | 'finishedTaskIdsBefore'
  | 'deleteTasks';
export type ReadOpName =
  | 'task'
  | 'tasks'
  | 'listTasks'
  | 'countTasks'
  | 'dependencyIds'
  | 'dependentIds'
  | 'logsAfter'
  | 'logsForTasks'
  | 'log'
  | 'workers'
  | 'listWorkers'
  | 'tasksLockedBy'
  | 'statsParts'
  | 'taskCounts';

export type WriteMode =
  /** A request's write: it may share one commit with the writes that arrive with it. */
  | 'grouped'
  /**
   * Background work (sweep, schedules): it waits for locks only briefly, so that a lock
   * held elsewhere does not stall this process; a BUSY result means "next tick".
   */
  | 'background';

export interface Driver {
  readonly info: StoreInfo;
  readonly maintenance: Maintenance;
  /** Where the feed publishes every committed outbox row, in order. */
  readonly bus: EventBus;
  /** Runs the unit in one transaction, as if alone; the events it appended are published after commit. */
  write<T>(unit: Unit<T>, mode?: WriteMode): Promise<T>;
  /** Runs a unit of reads. */
  read<T>(unit: Unit<T>): Promise<T>;
  /**
   * Runs `job` unless another instance is running the job of that name (an advisory
   * lock on PostgreSQL); resolves null when skipped. SQLite runs it: its writes are
   * serialized and each job's writes are guarded.
   */
  singleton<T>(name: string, job: () => Promise<T>): Promise<T | null>;
  /** Looks for rows other writers committed, now; resolves once they are published. */
  pollFeed(): Promise<void>;
  close(): Promise<void>;
}

/** Every operation belongs to exactly one family (a compile error names any that does not). */
type Unfiled = Exclude<OpName, TaskOpName | ClaimOpName | WorkerOpName | ScheduleOpName | AdminOpName | OutboxOpName | ReadOpName>;
export const EVERY_OP_FILED: [Unfiled] extends [never] ? true : Unfiled = true;

/**
 * The SQLite adapter of the engine. Every write is one BEGIN IMMEDIATE transaction: the
 * write lock is taken up front, so a transaction never fails half-way on a lock upgrade,
 * and SQLite's busy timeout queues writers from other processes.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { EventBus } from '../../events/bus.js';
import { TaskwireError, invalidState, leaseLost, notFound, validation } from '../errors.js';
import type {
  AppendLogInput,
  CleanupResult,
  ClaimedTask,
  ClaimInput,
  CompleteInput,
  ConcurrencyLimit,
  EnqueueInput,
  EnqueueResult,
  FailInput,
  FireResult,
  HeartbeatInput,
  HeartbeatResult,
  InternalEventKind,
  JsonObject,
  LeaseState,
  ListLogsInput,
  ListTasksInput,
  Maintenance,
  Page,
  ProgressInput,
  QueueStats,
  Role,
  Schedule,
  StoreInfo,
  StoredEvent,
  SweepResult,
  Task,
  TaskEventKind,
  TaskFilter,
  TaskLog,
  TaskStatus,
  TaskStore,
  TokenInfo,
  TypeStats,
  UpsertScheduleInput,
  Worker,
  WorkerStatus,
} from '../types.js';
import { TASK_STATUSES } from '../types.js';
import { DEFAULTS } from '../engine/defaults.js';
import { FINISHED_STATUSES, SETTLED_STATUSES, TRANSITIONS, canTake } from '../engine/transitions.js';
import { decideAttemptEnd } from '../engine/rules/attempts.js';
import { ClaimBudget } from '../engine/rules/claiming.js';
import { cancelledReason, cascadedReason, initialState } from '../engine/rules/dependencies.js';
import { leaseMiss } from '../engine/rules/leases.js';
import { MAX_MISSED, planFire, toggledNextRun, upsertTiming, type StoredTiming } from '../engine/rules/schedules.js';
import {
  LIMITS,
  backoffDelayMs,
  checkFilter,
  isPlainObject,
  jsonObject,
  optionalInt,
  optionalString,
  optionalStringList,
  requireLogLevel,
  requireProgress,
  requireStrategy,
  requireString,
  requireTaskId,
  toJson,
  workerMatch,
} from '../validate.js';
import { checkCron, checkTimezone } from '../schedule.js';
import { ROLES, generateToken, hashToken, sameHash, tokenId } from '../tokens.js';
import { CheckpointThread } from './checkpointer.js';
import { CandidatePicker } from './claim.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { mapSqliteError } from './errors.js';
import { sqliteMaintenance } from './maintenance.js';
import { LATEST_SCHEMA_VERSION } from './migrations/index.js';
import {
  EVENT_COLUMNS,
  LOG_COLUMNS,
  TASK_COLUMNS,
  WORKER_COLUMNS,
  toEvent,
  toLog,
  toTask,
  toTaskFromValues,
  toWorker,
  type EventRow,
  type LogRow,
  type TaskRow,
  type WorkerRow,
} from './rows.js';

export interface SqliteStoreOptions {
  /** File path or ':memory:'. */
  path: string;
  synchronous?: 'normal' | 'full';
  busyTimeoutMs?: number;
  quickCheck?: boolean;
  /** Called with every SQL statement run (tests count statements with it). */
  trace?: (sql: string) => void;
  /** Injected clock (ms since epoch). */
  now?: () => number;
  /** Injected randomness in [0, 1): backoff jitter and WEIGHTED_RANDOM. */
  random?: () => number;
  bus?: EventBus;
  defaultLeaseSeconds?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A worker without a heartbeat for this long becomes STALE. */
  staleWorkerAfterMs?: number;
  maxPayloadBytes?: number;
  /** How often to look for outbox rows written by other processes; 0 turns tailing off. */
  tailIntervalMs?: number;
  /** Told about every coded storage failure (BUSY, STORAGE): metrics count them. */
  onStorageError?: (error: TaskwireError) => void;
  /**
   * Checkpoint the WAL from a worker thread every this many ms instead of inside commits
   * (see checkpointer.ts); the server uses it. Default: SQLite's automatic checkpoint.
   */
  checkpointThreadMs?: number;
  /** Told when a background checkpoint fails (the server logs it; the next one tries again). */
  onCheckpointError?: (message: string) => void;
}

/** How often outbox rows of other processes are looked for, by default (ms). */
const TAIL_INTERVAL_MS = 20;

const sqlList = (statuses: readonly TaskStatus[]) => `(${statuses.map((st) => `'${st}'`).join(',')})`;
const FINISHED_SQL = sqlList(FINISHED_STATUSES);
/** Exactly the WHERE of ix_tasks_settled_status (migration 004), written from the same list. */
const SETTLED_SQL = `status IN ${sqlList(SETTLED_STATUSES)}`;
/** The guards of cancel and retry, written from the status machine's table. */
const CANCELLABLE_SQL = `status IN ${sqlList(TRANSITIONS.cancelWhileWaiting.from)}`;
const RETRYABLE_SQL = `status IN ${sqlList(TRANSITIONS.retry.from)}`;

type Statement = Database.Statement;

/** A statement cache keyed by SQL text, bounded so that dynamic list queries cannot grow it. */
class StatementCache {
  private readonly map = new Map<string, Statement>();
  constructor(
    private readonly db: SqliteDatabase,
    private readonly max = 500,
  ) {}
  private readonly rawMap = new Map<string, Statement>();

  get(sql: string): Statement {
    return this.cached(this.map, sql);
  }

  /** The same statement in raw mode: rows come back as arrays of column values. */
  raw(sql: string): Statement {
    return this.cached(this.rawMap, sql);
  }

  /** Keyed by the SQL text as written at the call site: a literal, whose hash V8 keeps. */
  private cached(map: Map<string, Statement>, sql: string): Statement {
    let s = map.get(sql);
    if (!s) {
      if (map.size >= this.max) map.delete(map.keys().next().value!);
      s = this.db.prepare(sql);
      if (map === this.rawMap) s.raw(true);
      map.set(sql, s);
    }
    return s;
  }
}

interface NormalizedEnqueue {
  queue: string;
  type: string;
  priority: number;
  payload: string;
  compatibility: string;
  runAfter: number;
  maxAttempts: number;
  timeoutSeconds: number | null;
  idempotencyKey: string | null;
  correlationId: string | null;
  dependsOn: number[];
}

export class SqliteTaskStore implements TaskStore {
  readonly info: StoreInfo;
  readonly maintenance: Maintenance;
  readonly bus: EventBus;
  readonly db: SqliteDatabase;

  private readonly now: () => number;
  private readonly random: () => number;
  private readonly opts: {
    defaultLeaseSeconds: number;
    backoffBaseMs: number;
    backoffCapMs: number;
    staleWorkerAfterMs: number;
    maxPayloadBytes: number;
    tailIntervalMs: number;
  };
  private readonly sql: StatementCache;
  private readonly picker: CandidatePicker;
  private readonly runInTransaction: ((fn: () => unknown) => unknown) & { immediate: (fn: () => unknown) => unknown };
  /** Writes waiting for the next group commit (see writeSoon). */
  private queued: { fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  /** Outbox rows written by the transaction in progress; published after it commits. */
  private pending: StoredEvent[] = [];
  private tailTimer: NodeJS.Timeout | null = null;
  private lastDataVersion = 0;
  private closed = false;
  private readonly onStorageError: ((error: TaskwireError) => void) | undefined;

  private readonly busyTimeoutMs: number;
  /** The checkpoint thread, when checkpoints run off the event loop. */
  readonly checkpoints: CheckpointThread | null = null;

  constructor(options: SqliteStoreOptions) {
    this.onStorageError = options.onStorageError;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const opened = openDatabase(options);
    this.db = opened.db;
    this.info = { kind: 'sqlite', location: opened.path, schemaVersion: opened.schemaVersion, latestSchemaVersion: LATEST_SCHEMA_VERSION, settings: opened.pragmas };
    this.maintenance = sqliteMaintenance(this.db, opened.path, (fn) => this.read(fn));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.opts = {
      defaultLeaseSeconds: options.defaultLeaseSeconds ?? DEFAULTS.leaseSeconds,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffCapMs: options.backoffCapMs ?? DEFAULTS.backoffCapMs,
      staleWorkerAfterMs: options.staleWorkerAfterMs ?? DEFAULTS.staleWorkerAfterMs,
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes,
      tailIntervalMs: options.tailIntervalMs ?? TAIL_INTERVAL_MS,
    };
    this.sql = new StatementCache(this.db);
    this.picker = new CandidatePicker(this.db, this.random);
    const tx = this.db.transaction((fn: () => unknown) => fn());
    this.runInTransaction = tx as unknown as SqliteTaskStore['runInTransaction'];
    this.bus = options.bus ?? new EventBus();
    this.bus.startAt(this.lastEventIdSync());
    this.lastDataVersion = this.dataVersion();
    if (options.checkpointThreadMs && opened.path !== ':memory:') {
      this.db.pragma('wal_autocheckpoint = 0');
      this.info.settings.wal_autocheckpoint = 0;
      this.checkpoints = new CheckpointThread(opened.path, options.checkpointThreadMs, (message) => options.onCheckpointError?.(message));
    }
    if (this.opts.tailIntervalMs > 0 && opened.path !== ':memory:') {
      this.tailTimer = setInterval(() => this.tail(), this.opts.tailIntervalMs);
      this.tailTimer.unref();
    }
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Group commit: queues `fn` and runs it, with every other write queued in the same turn
   * of the event loop, in one BEGIN IMMEDIATE transaction; the promise settles after the
   * COMMIT. Requests that arrive together (many clients, many sockets) then share one
   * commit, which is most of the cost of a small write. Each write still succeeds or fails
   * alone: when several share a transaction, each runs in its own savepoint, and one that
   * throws is rolled back to it (its outbox rows with it) while the others commit.
   */
  private writeSoon<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new TaskwireError('STORAGE', 'the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate, not a microtask: it runs after the poll phase has read every socket
      // that was ready, so the writes of all the requests that came in together are queued.
      if (this.queued.length === 1) setImmediate(this.flushQueued);
    });
  }

  private readonly flushQueued = (): void => {
    const ops = this.queued;
    if (ops.length === 0) return;
    this.queued = [];
    if (ops.length === 1) {
      const op = ops[0]!;
      let value: unknown;
      try {
        value = this.write(op.fn);
      } catch (e) {
        op.reject(e);
        return;
      }
      op.resolve(value);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.write(() => {
        for (const op of ops) {
          const mark = this.pending.length;
          try {
            // A transaction function called inside a transaction runs as a savepoint.
            outcomes.push({ ok: true, value: this.runInTransaction(op.fn) });
          } catch (e) {
            // SQLite may have rolled back the whole transaction itself (disk full, I/O):
            // then every write of the group fails, as a lone write would have.
            if (!this.db.inTransaction) throw e;
            this.pending.length = mark;
            outcomes.push({ ok: false, value: e });
          }
        }
      });
    } catch (e) {
      for (const op of ops) op.reject(e);
      return;
    }
    ops.forEach((op, i) => {
      const o = outcomes[i]!;
      if (o.ok) op.resolve(o.value);
      else op.reject(this.storageError(o.value));
    });
  };

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, then publishes the events it wrote. */
  private write<T>(fn: () => T): T {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    this.pending = [];
    let result: T;
    try {
      result = this.runInTransaction.immediate(fn) as T;
    } catch (e) {
      this.pending = [];
      throw this.storageError(e);
    }
    const events = this.pending;
    this.pending = [];
    this.publish(events);
    return result;
  }

  /**
   * A write for background work (sweeps, schedules): it waits for the lock only briefly,
   * so that a lock held by another process does not freeze this process's event loop
   * for the whole busy timeout on every tick. A BUSY result just means "next tick".
   */
  private background<T>(fn: () => T): T {
    this.db.pragma('busy_timeout = 100');
    try {
      return this.write(fn);
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private read<T>(fn: () => T): T {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    try {
      return fn();
    } catch (e) {
      throw this.storageError(e);
    }
  }

  private storageError(e: unknown): unknown {
    const mapped = mapSqliteError(e);
    if (mapped instanceof TaskwireError && (mapped.code === 'BUSY' || mapped.code === 'STORAGE')) this.onStorageError?.(mapped);
    return mapped;
  }

  private publish(events: StoredEvent[]): void {
    if (events.length === 0) return;
    // Ids are handed out in commit order (SQLite has one writer at a time). If the first
    // of ours is not the next one the bus expects, another process committed in between:
    // publish its rows first, so that subscribers see one gapless sequence.
    if (events[0]!.id !== this.bus.lastPublishedId + 1) this.catchUp();
    for (const e of events) this.bus.publish(e);
  }

  /** Publishes every outbox row after the last published one. */
  private catchUp(): void {
    for (;;) {
      const rows = this.sql
        .get(`SELECT ${EVENT_COLUMNS} FROM task_events WHERE id > ? ORDER BY id LIMIT 1000`)
        .all(this.bus.lastPublishedId) as EventRow[];
      for (const r of rows) this.bus.publish(toEvent(r));
      if (rows.length < 1000) return;
    }
  }

  private dataVersion(): number {
    // Prepared once: db.pragma() prepares a statement on every call, and this runs 50 times a second.
    return this.sql.get('PRAGMA data_version').pluck().get() as number;
  }

  /** Wakes when another connection has committed (PRAGMA data_version moved). */
  private tail(): void {
    if (this.closed) return;
    try {
      const v = this.dataVersion();
      if (v === this.lastDataVersion) return;
      this.lastDataVersion = v;
      this.catchUp();
    } catch {
      // A transient read failure (lock, I/O) is retried on the next tick.
    }
  }

  /** Forces a look at the outbox now (tests, and the CLI before it exits). */
  pollOutbox(): void {
    this.tail();
  }

  private emit(kind: TaskEventKind | InternalEventKind, at: number, fields: Partial<StoredEvent>): void {
    const info = this.sql
      .get(
        `INSERT INTO task_events (kind, at, task_id, status, queue, type, worker_id, log_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        kind,
        at,
        fields.taskId ?? null,
        fields.status ?? null,
        fields.queue ?? null,
        fields.type ?? null,
        fields.workerId ?? null,
        fields.logId ?? null,
      );
    this.pending.push({
      id: Number(info.lastInsertRowid),
      kind,
      at,
      taskId: fields.taskId ?? null,
      status: fields.status ?? null,
      queue: fields.queue ?? null,
      type: fields.type ?? null,
      workerId: fields.workerId ?? null,
      logId: fields.logId ?? null,
    });
  }

  private emitTask(kind: TaskEventKind, task: Task, at: number): void {
    this.emit(kind, at, { taskId: task.id, status: task.status, queue: task.queue, type: task.type });
  }

  private taskRow(id: number): TaskRow | undefined {
    return this.sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(id) as TaskRow | undefined;
  }

  private requireTask(id: number): Task {
    const row = this.taskRow(id);
    if (!row) throw notFound('task', id);
    return toTask(row);
  }

  /** UPDATE statements with their RETURNING clause, by the SQL their call site passes. */
  private readonly taskUpdates = new Map<string, Statement>();

  /** Runs an UPDATE ... RETURNING on one task and maps the row. */
  private updateTask(sql: string, params: Record<string, unknown>): Task | null {
    let statement = this.taskUpdates.get(sql);
    if (!statement) {
      // Not through the bounded cache: these are a fixed set of texts, and looking one up
      // there would first build "sql RETURNING <27 columns>" again on every call.
      statement = this.db.prepare(`${sql} RETURNING ${TASK_COLUMNS}`).raw(true);
      this.taskUpdates.set(sql, statement);
    }
    const row = statement.get(params) as unknown[] | undefined;
    return row ? toTaskFromValues(row) : null;
  }

  private addLog(taskId: number, at: number, level: string, message: string, details: string | null): TaskLog {
    const row = this.sql
      .get(`INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, ?, ?, ?) RETURNING ${LOG_COLUMNS}`)
      .get(taskId, at, level, message, details) as LogRow;
    this.emit('LOG_ADDED', at, { taskId, logId: row.id });
    return toLog(row);
  }

  // ---------------------------------------------------------------- enqueue

  private normalizeEnqueue(input: EnqueueInput, now: number): NormalizedEnqueue {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const type = requireString(input.type, 'type');
    const queue = input.queue === undefined || input.queue === null ? DEFAULTS.queue : requireString(input.queue, 'queue');
    const payload = jsonObject(input.payload, 'payload', this.opts.maxPayloadBytes);
    const compatibility =
      input.compatibility === undefined || input.compatibility === null
        ? '{}'
        : jsonObject(input.compatibility, 'compatibility', LIMITS.smallJsonBytes);
    const priority = optionalInt(input.priority, 'priority', -LIMITS.priority, LIMITS.priority) ?? DEFAULTS.priority;
    const maxAttempts = optionalInt(input.maxAttempts, 'maxAttempts', 1, LIMITS.maxAttempts) ?? DEFAULTS.maxAttempts;
    const timeoutSeconds = optionalInt(input.timeoutSeconds, 'timeoutSeconds', 1, LIMITS.timeoutSeconds);
    const delaySeconds = optionalInt(input.delaySeconds, 'delaySeconds', 0, LIMITS.delaySeconds);
    let runAfter = now;
    if (input.runAfter !== undefined && input.runAfter !== null) {
      if (delaySeconds !== null) throw validation('give runAfter or delaySeconds, not both', 'runAfter');
      if (typeof input.runAfter !== 'number' || !Number.isFinite(input.runAfter)) {
        throw validation('runAfter is not a valid time', 'runAfter');
      }
      runAfter = Math.max(0, Math.trunc(input.runAfter));
    } else if (delaySeconds !== null) {
      runAfter = now + delaySeconds * 1000;
    }
    const idempotencyKey = optionalString(input.idempotencyKey, 'idempotencyKey');
    const correlationId = optionalString(input.correlationId, 'correlationId');
    let dependsOn: number[] = [];
    if (input.dependsOn !== undefined && input.dependsOn !== null) {
      if (!Array.isArray(input.dependsOn)) throw validation('dependsOn must be a list of task ids', 'dependsOn');
      if (input.dependsOn.length > LIMITS.dependsOn) {
        throw validation(`dependsOn may list at most ${LIMITS.dependsOn} tasks`, 'dependsOn');
      }
      dependsOn = [...new Set(input.dependsOn.map((id) => requireTaskId(id, 'dependsOn')))];
    }
    return {
      queue,
      type,
      priority,
      payload,
      compatibility,
      runAfter,
      maxAttempts,
      timeoutSeconds,
      idempotencyKey,
      correlationId,
      dependsOn,
    };
  }

  /**
   * Where a task with these dependencies starts (rules/dependencies.ts).
   * Relies on: BEGIN IMMEDIATE serializing writers, so no dependency finishes between this
   * read and the insert of the new edges. A driver with several writers must lock the
   * dependency rows (FOR SHARE) here, or its unblockDependents cannot see the new edge.
   */
  private dependencyState(dependsOn: readonly number[]): { status: TaskStatus; reason: string | null } {
    if (dependsOn.length === 0) return { status: 'QUEUED', reason: null };
    const rows = this.sql
      .get(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(dependsOn)) as { id: number; status: TaskStatus }[];
    return initialState(dependsOn, rows);
  }

  private enqueueOne(input: EnqueueInput, now: number): EnqueueResult {
    const n = this.normalizeEnqueue(input, now);
    if (n.idempotencyKey !== null) {
      const existing = this.sql
        .get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`)
        .get(n.idempotencyKey) as TaskRow | undefined;
      if (existing) return { task: toTask(existing), created: false };
    }
    const { status, reason } = this.dependencyState(n.dependsOn);
    const createdBy = optionalString(input.createdBy, 'createdBy');
    const finishedAt = status === 'CANCELLED' ? now : null;
    // The new row is built here from what was inserted rather than read back with
    // RETURNING: that read and its JSON parsing cost as much as the insert itself.
    // insertTaskUnlessKeyTaken: the key was free when read above; a writer that took it
    // since (possible only with several writers) makes this insert change nothing, and the
    // caller gets that task with created = false instead of a unique-index CONFLICT.
    const { lastInsertRowid, changes } = this.sql
      .get(
        `INSERT INTO tasks (queue, type, priority, payload, compatibility, status, max_attempts, run_after,
           idempotency_key, correlation_id, timeout_seconds, error_message, finished_at, created_by, created_at, updated_at)
         VALUES (@queue, @type, @priority, @payload, @compatibility, @status, @maxAttempts, @runAfter,
           @idempotencyKey, @correlationId, @timeoutSeconds, @reason, @finishedAt, @createdBy, @now, @now)
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
      )
      .run({
        queue: n.queue,
        type: n.type,
        priority: n.priority,
        payload: n.payload,
        compatibility: n.compatibility,
        status,
        maxAttempts: n.maxAttempts,
        runAfter: n.runAfter,
        idempotencyKey: n.idempotencyKey,
        correlationId: n.correlationId,
        timeoutSeconds: n.timeoutSeconds,
        reason,
        finishedAt,
        createdBy,
        now,
      });
    if (changes === 0) {
      const taken = this.sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`).get(n.idempotencyKey) as TaskRow;
      return { task: toTask(taken), created: false };
    }
    const payload = input.payload as JsonObject;
    const compatibility = (input.compatibility ?? {}) as JsonObject;
    const task: Task = {
      id: Number(lastInsertRowid),
      queue: n.queue,
      type: n.type,
      priority: n.priority,
      payload,
      compatibility,
      region: jsonScalarText(compatibility.region),
      format: jsonScalarText(payload.format),
      status,
      attempts: 0,
      maxAttempts: n.maxAttempts,
      runAfter: n.runAfter,
      leaseUntil: null,
      lockedBy: null,
      progress: null,
      progressMessage: null,
      result: null,
      errorMessage: reason,
      cancelRequested: false,
      idempotencyKey: n.idempotencyKey,
      correlationId: n.correlationId,
      timeoutSeconds: n.timeoutSeconds,
      createdBy,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt,
    };
    if (n.dependsOn.length > 0) {
      const insert = this.sql.get('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)');
      for (const dep of n.dependsOn) insert.run(task.id, dep);
    }
    this.emitTask('ENQUEUED', task, now);
    if (status === 'CANCELLED') {
      this.addLog(task.id, now, 'WARN', `cancelled at enqueue: ${reason}`, null);
      this.emitTask('CANCELLED', task, now);
    }
    return { task, created: true };
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return this.writeSoon(() => this.enqueueOne(input, this.now()));
  }

  async enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    if (!Array.isArray(inputs)) throw validation('inputs must be a list');
    return this.writeSoon(() => {
      const now = this.now();
      return inputs.map((input, i) => {
        try {
          return this.enqueueOne(input, now);
        } catch (e) {
          if (e instanceof TaskwireError && e.code === 'VALIDATION') {
            throw new TaskwireError('VALIDATION', `inputs[${i}]: ${e.message}`, { ...e.details, index: i });
          }
          throw e;
        }
      });
    });
  }

  // ---------------------------------------------------------------- workers

  /** Registers or refreshes a worker; emits WORKER_UPDATED when it is new or changes status. */
  /**
   * The common case of touchWorker: an ACTIVE worker with unchanged capabilities only
   * gets a fresh heartbeat. One UPDATE, no read, no event.
   */
  private refreshWorker(workerId: string, capabilities: string | null, now: number): boolean {
    return (
      this.sql
        .get(
          `UPDATE workers SET heartbeat_at = ? WHERE id = ? AND status = 'ACTIVE' AND (? IS NULL OR capabilities = ?)`,
        )
        .run(now, workerId, capabilities, capabilities).changes === 1
    );
  }

  private touchWorker(workerId: string, capabilities: string | null, now: number): Worker {
    const before = this.sql.get('SELECT status, capabilities FROM workers WHERE id = ?').get(workerId) as
      | { status: WorkerStatus; capabilities: string }
      | undefined;
    const row = this.sql
      .get(
        `INSERT INTO workers (id, capabilities, status, started_at, heartbeat_at)
         VALUES (@id, coalesce(@caps, '{}'), 'ACTIVE', @now, @now)
         ON CONFLICT (id) DO UPDATE SET
           heartbeat_at = @now,
           status = 'ACTIVE',
           capabilities = coalesce(@caps, workers.capabilities),
           started_at = CASE WHEN workers.status = 'STOPPED' THEN @now ELSE workers.started_at END
         RETURNING ${WORKER_COLUMNS}`,
      )
      .get({ id: workerId, caps: capabilities, now }) as WorkerRow;
    if (!before || before.status !== 'ACTIVE' || (capabilities !== null && capabilities !== before.capabilities)) {
      this.emit('WORKER_UPDATED', now, { workerId });
    }
    return toWorker(row);
  }

  // ---------------------------------------------------------------- claim

  /** How many more tasks may start now, for the queue and for each limited type. */
  /**
   * The queue's concurrency budget for one claim (rules/claiming.ts), from task_counts.
   * Relies on: BEGIN IMMEDIATE, so no other claim runs between this read and this claim's
   * updates. A driver with several writers must serialize claims on a limited queue
   * (an advisory transaction lock on the queue) or two claims both see the free slot.
   */
  private claimBudget(queue: string, want: number): ClaimBudget {
    const limits = this.sql.get('SELECT type, max_running AS maxRunning FROM concurrency_limits WHERE queue = ?').all(queue) as {
      type: string;
      maxRunning: number;
    }[];
    return new ClaimBudget(limits, (type) => {
      if (type === null) {
        return (this.sql.get(`SELECT coalesce(sum(count), 0) AS c FROM task_counts WHERE queue = ? AND status = 'RUNNING'`).get(queue) as { c: number }).c;
      }
      const row = this.sql.get(`SELECT count AS c FROM task_counts WHERE queue = ? AND type = ? AND status = 'RUNNING'`).get(queue, type) as
        | { c: number }
        | undefined;
      return row?.c ?? 0;
    }, want);
  }

  async claim(input: ClaimInput): Promise<ClaimedTask[]> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const workerId = requireString(input.workerId, 'workerId');
    const queue = input.queue === undefined || input.queue === null ? DEFAULTS.queue : requireString(input.queue, 'queue');
    const types = optionalStringList(input.types, 'types');
    const match = workerMatch(input.capabilities);
    const capabilities = input.capabilities ? jsonObject(input.capabilities, 'capabilities', LIMITS.smallJsonBytes) : null;
    const limit = optionalInt(input.limit, 'limit', 1, LIMITS.claimLimit) ?? DEFAULTS.claimLimit;
    const leaseSeconds = optionalInt(input.leaseSeconds, 'leaseSeconds', 1, LIMITS.leaseSeconds) ?? this.opts.defaultLeaseSeconds;
    const strategy = requireStrategy(input.strategy);
    if (types && types.length === 0) return [];

    return this.writeSoon(() => {
      const now = this.now();
      if (!this.refreshWorker(workerId, capabilities, now)) this.touchWorker(workerId, capabilities, now);
      const budget = this.claimBudget(queue, limit);
      const claimed: ClaimedTask[] = [];
      const leaseUntil = now + leaseSeconds * 1000;
      for (let round = 0; budget.wanted > 0 && round < budget.maxRounds; round++) {
        const candidates = this.picker.pick(strategy, { queue, types, match, excludedTypes: budget.excluded, now }, budget.wanted);
        for (const c of candidates) {
          if (budget.wanted === 0) break;
          if (!budget.offer(c.type)) continue;
          const leaseToken = randomUUID();
          // Guard: still QUEUED (TRANSITIONS.claim), so a walk never takes a task twice.
          const task = this.updateTask(
            `UPDATE tasks SET status = 'RUNNING', attempts = attempts + 1, lease_token = @leaseToken,
               lease_until = @leaseUntil, locked_by = @workerId, started_at = @now, updated_at = @now,
               progress = NULL, progress_message = NULL, cancel_requested = 0,
               timeout_at = CASE WHEN timeout_seconds IS NULL THEN NULL ELSE @now + timeout_seconds * 1000 END
             WHERE id = @id AND status = 'QUEUED'`,
            { id: c.id, leaseToken, leaseUntil, workerId, now },
          );
          if (!task) continue;
          this.emit('CLAIMED', now, {
            taskId: task.id,
            status: task.status,
            queue: task.queue,
            type: task.type,
            workerId,
          });
          claimed.push({ task, leaseToken, leaseUntil });
          budget.took();
        }
        if (!budget.endRound()) break;
      }
      return claimed;
    });
  }

  // ---------------------------------------------------------------- leases

  async heartbeat(input: HeartbeatInput): Promise<HeartbeatResult> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const workerId = requireString(input.workerId, 'workerId');
    const extendSeconds =
      optionalInt(input.extendSeconds, 'extendSeconds', 1, LIMITS.leaseSeconds) ?? this.opts.defaultLeaseSeconds;
    const capabilities = input.capabilities ? jsonObject(input.capabilities, 'capabilities', LIMITS.smallJsonBytes) : null;
    const leases = input.leases ?? [];
    if (!Array.isArray(leases) || leases.length > LIMITS.claimLimit) {
      throw validation(`leases must be a list of at most ${LIMITS.claimLimit}`, 'leases');
    }
    const refs = leases.map((l) => ({ taskId: requireTaskId(l?.taskId), leaseToken: requireString(l?.leaseToken, 'leaseToken') }));
    return this.writeSoon(() => {
      const now = this.now();
      const worker = this.touchWorker(workerId, capabilities, now);
      const until = now + extendSeconds * 1000;
      const states: LeaseState[] = refs.map((ref) => {
        const row = this.sql
          .get(
            `UPDATE tasks SET lease_until = max(lease_until, @until)
             WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND locked_by = @worker
             RETURNING lease_until, cancel_requested`,
          )
          .get({ id: ref.taskId, token: ref.leaseToken, until, worker: workerId }) as { lease_until: number; cancel_requested: number } | undefined;
        if (row) return { taskId: ref.taskId, leaseUntil: row.lease_until, cancelRequested: row.cancel_requested !== 0, lost: false };
        const other = this.sql.get('SELECT cancel_requested FROM tasks WHERE id = ?').get(ref.taskId) as
          | { cancel_requested: number }
          | undefined;
        return { taskId: ref.taskId, leaseUntil: null, cancelRequested: (other?.cancel_requested ?? 0) !== 0, lost: true };
      });
      return { worker, leases: states };
    });
  }

  /** The RUNNING task this token holds, or LEASE_LOST / NOT_FOUND / FORBIDDEN (rules/leases.ts). */
  private requireLease(taskId: number, leaseToken: string, holder?: string | null): Task {
    const lease = this.sql.get('SELECT status, lease_token AS leaseToken, locked_by AS lockedBy FROM tasks WHERE id = ?').get(taskId) as
      | { status: TaskStatus; leaseToken: string | null; lockedBy: string | null }
      | undefined;
    const miss = leaseMiss(taskId, lease, leaseToken, holder);
    if (miss) throw miss;
    return this.requireTask(taskId);
  }

  async reportProgress(input: ProgressInput): Promise<Task> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const taskId = requireTaskId(input.taskId);
    const leaseToken = requireString(input.leaseToken, 'leaseToken');
    const progress = requireProgress(input.progress);
    const message = optionalString(input.message, 'message', LIMITS.messageLength);
    const holder = optionalString(input.holder, 'holder');
    return this.writeSoon(() => {
      const now = this.now();
      const task = this.updateTask(
        `UPDATE tasks SET progress = @progress, progress_message = @message, updated_at = @now
         WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND (@holder IS NULL OR locked_by = @holder)`,
        { id: taskId, token: leaseToken, progress, message, now, holder },
      );
      if (!task) {
        this.requireLease(taskId, leaseToken, holder);
        throw leaseLost(taskId);
      }
      this.emitTask('PROGRESS', task, now);
      return task;
    });
  }

  private completeOne(input: CompleteInput, now: number): Task {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const taskId = requireTaskId(input.taskId);
    const leaseToken = requireString(input.leaseToken, 'leaseToken');
    const result = input.result === undefined ? null : toJson(input.result, 'result', this.opts.maxPayloadBytes);
    const holder = optionalString(input.holder, 'holder');
    const task = this.updateTask(
      `UPDATE tasks SET status = 'SUCCEEDED', result = @result, finished_at = @now, updated_at = @now,
         lease_token = NULL, lease_until = NULL, timeout_at = NULL, progress = 1, error_message = NULL
       WHERE id = @id AND status = 'RUNNING' AND lease_token = @token AND (@holder IS NULL OR locked_by = @holder)`,
      { id: taskId, token: leaseToken, result, now, holder },
    );
    if (!task) {
      this.requireLease(taskId, leaseToken, holder);
      throw leaseLost(taskId);
    }
    this.emitTask('SUCCEEDED', task, now);
    this.unblockDependents(task.id, now);
    return task;
  }

  async complete(input: CompleteInput): Promise<Task> {
    return this.writeSoon(() => this.completeOne(input, this.now()));
  }

  async completeMany(inputs: readonly CompleteInput[]): Promise<Task[]> {
    if (!Array.isArray(inputs)) throw validation('inputs must be a list');
    if (inputs.length > LIMITS.batch) throw validation(`at most ${LIMITS.batch} completions at once`, 'inputs');
    return this.writeSoon(() => {
      const now = this.now();
      return inputs.map((input) => this.completeOne(input, now));
    });
  }

  async fail(input: FailInput): Promise<Task> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const taskId = requireTaskId(input.taskId);
    const leaseToken = requireString(input.leaseToken, 'leaseToken');
    const error = requireString(input.error, 'error', LIMITS.errorLength);
    const retryAfterSeconds = optionalInt(input.retryAfterSeconds, 'retryAfterSeconds', 0, LIMITS.delaySeconds);
    const retryable = input.retryable !== false;
    const holder = optionalString(input.holder, 'holder');
    return this.writeSoon(() => {
      const now = this.now();
      const current = this.requireLease(taskId, leaseToken, holder);
      // The attempt read under the lease; null only if it ended between the read and the write.
      const ended = this.endAttempt(current, error, retryable, retryAfterSeconds, now, null);
      if (!ended) throw leaseLost(taskId);
      return ended;
    });
  }

  /**
   * Ends a RUNNING attempt that did not succeed, as rules/attempts.ts decides: CANCELLED,
   * QUEUED again (with its delay) or FAILED; the events it names are recorded in order.
   *
   * Guard: the UPDATE names the attempt it read (still RUNNING, the same attempt number),
   * so a decision made on a stale read (the attempt ended meanwhile, or the task was
   * claimed again) changes nothing and returns null. SQLite's single writer makes that
   * impossible today; the guard is what keeps it true for drivers with several writers.
   */
  private endAttempt(
    task: Task,
    error: string,
    retryable: boolean,
    retryAfterSeconds: number | null,
    now: number,
    cause: 'TIMED_OUT' | 'LEASE_EXPIRED' | null,
  ): Task | null {
    const end = decideAttemptEnd(task, { error, retryable, retryAfterSeconds, cause }, {
      baseMs: this.opts.backoffBaseMs,
      capMs: this.opts.backoffCapMs,
      random: this.random,
    });
    const clearLease = `lease_token = NULL, lease_until = NULL, timeout_at = NULL, updated_at = @now, error_message = @error`;
    const sameAttempt = `id = @id AND status = 'RUNNING' AND attempts = @attempts`;
    const t =
      end.status === 'QUEUED'
        ? this.updateTask(`UPDATE tasks SET status = 'QUEUED', run_after = @runAfter, ${clearLease} WHERE ${sameAttempt}`, {
            id: task.id,
            attempts: task.attempts,
            now,
            error: end.errorMessage,
            runAfter: now + end.delayMs!,
          })
        : this.updateTask(`UPDATE tasks SET status = @status, finished_at = @now, ${clearLease} WHERE ${sameAttempt}`, {
            id: task.id,
            attempts: task.attempts,
            now,
            error: end.errorMessage,
            status: end.status,
          });
    if (!t) return null;
    for (const kind of end.events) this.emitTask(kind, t, now);
    if (end.cascadeReason) this.cancelDependents(t.id, end.cascadeReason, now);
    return t;
  }

  // ---------------------------------------------------------------- dependencies

  /**
   * After `taskId` SUCCEEDED: each BLOCKED dependent whose dependencies all succeeded is QUEUED.
   * Relies on: one writer at a time, so two dependencies finishing together are seen one
   * after the other (the second sees the first SUCCEEDED). A driver with several writers
   * must lock the dependent row (FOR UPDATE) before the NOT EXISTS check: write skew.
   */
  private unblockDependents(taskId: number, now: number): void {
    const rows = this.sql
      .get(
        // CROSS JOIN fixes the join order: start from this task's edges (an index seek),
        // never from every BLOCKED task, which is what the planner picks without statistics.
        `SELECT t.id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
         WHERE d.depends_on_id = ? AND t.status = 'BLOCKED'
           AND NOT EXISTS (
             SELECT 1 FROM task_dependencies d2 CROSS JOIN tasks p ON p.id = d2.depends_on_id
             WHERE d2.task_id = t.id AND p.status <> 'SUCCEEDED')`,
      )
      .all(taskId) as { id: number }[];
    for (const { id } of rows) {
      const t = this.updateTask(`UPDATE tasks SET status = 'QUEUED', updated_at = @now WHERE id = @id AND status = 'BLOCKED'`, {
        id,
        now,
      });
      if (t) this.emitTask('UNBLOCKED', t, now);
    }
  }

  /** Cancels every BLOCKED task that (transitively) depends on `rootId`. */
  private cancelDependents(rootId: number, reason: string, now: number): void {
    const select = this.sql.get(
      `SELECT t.id FROM task_dependencies d CROSS JOIN tasks t ON t.id = d.task_id
       WHERE d.depends_on_id = ? AND t.status = 'BLOCKED'`,
    );
    const stack: { id: number; reason: string }[] = [{ id: rootId, reason }];
    while (stack.length > 0) {
      const { id: parent, reason: why } = stack.pop()!;
      for (const { id } of select.all(parent) as { id: number }[]) {
        const t = this.updateTask(
          `UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
           WHERE id = @id AND status = 'BLOCKED'`,
          { id, now, why },
        );
        if (!t) continue;
        this.addLog(id, now, 'WARN', `cancelled: ${why}`, null);
        this.emitTask(TRANSITIONS.cancelAsDependent.event!, t, now);
        stack.push({ id, reason: cascadedReason(id, why) });
      }
    }
  }

  // ---------------------------------------------------------------- cancel, retry, logs

  async cancel(id: number, reason?: string | null, onlyCreatedBy?: string | null): Promise<Task> {
    const taskId = requireTaskId(id, 'id');
    const why = optionalString(reason, 'reason', LIMITS.messageLength) ?? 'cancelled';
    return this.writeSoon(() => {
      const now = this.now();
      const task = this.requireTask(taskId);
      if (onlyCreatedBy && task.createdBy !== onlyCreatedBy) {
        throw new TaskwireError('FORBIDDEN', `task ${taskId} was enqueued by someone else`, { taskId });
      }
      if (canTake('cancelWhileWaiting', task.status)) {
        const t = this.updateTask(
          `UPDATE tasks SET status = 'CANCELLED', finished_at = @now, updated_at = @now, error_message = @why
           WHERE id = @id AND ${CANCELLABLE_SQL}`,
          { id: taskId, now, why },
        ) ?? changedMeanwhile(taskId);
        this.emitTask('CANCELLED', t, now);
        this.cancelDependents(taskId, cancelledReason(taskId), now);
        return t;
      }
      if (canTake('requestCancel', task.status)) {
        if (task.cancelRequested) return task;
        const t = this.updateTask(
          `UPDATE tasks SET cancel_requested = 1, updated_at = @now, error_message = @why WHERE id = @id AND status = 'RUNNING'`,
          { id: taskId, now, why },
        ) ?? changedMeanwhile(taskId);
        this.emitTask('CANCEL_REQUESTED', t, now);
        return t;
      }
      throw invalidState(`task ${taskId} is ${task.status} and can no longer be cancelled`, { status: task.status });
    });
  }

  async retry(id: number): Promise<Task> {
    const taskId = requireTaskId(id, 'id');
    return this.writeSoon(() => {
      const now = this.now();
      const task = this.requireTask(taskId);
      if (!canTake('retry', task.status)) {
        throw invalidState(`only FAILED or CANCELLED tasks can be retried; task ${taskId} is ${task.status}`, {
          status: task.status,
        });
      }
      const deps = this.sql.get('SELECT depends_on_id AS id FROM task_dependencies WHERE task_id = ?').all(taskId) as {
        id: number;
      }[];
      const { status, reason } = this.dependencyState(deps.map((d) => d.id));
      if (status === 'CANCELLED') throw invalidState(`task ${taskId} cannot run: ${reason}; retry that task first`);
      const t = this.updateTask(
        `UPDATE tasks SET status = @status, attempts = 0, run_after = @now, updated_at = @now, finished_at = NULL,
           cancel_requested = 0, lease_token = NULL, lease_until = NULL, timeout_at = NULL, locked_by = NULL,
           progress = NULL, progress_message = NULL, result = NULL, error_message = NULL
         WHERE id = @id AND ${RETRYABLE_SQL}`,
        { id: taskId, now, status },
      ) ?? changedMeanwhile(taskId);
      this.emitTask('REQUEUED', t, now);
      return t;
    });
  }

  async appendLog(input: AppendLogInput): Promise<TaskLog> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const taskId = requireTaskId(input.taskId);
    const level = requireLogLevel(input.level);
    const message = requireString(input.message, 'message', LIMITS.messageLength);
    const details =
      input.details === undefined || input.details === null ? null : toJson(input.details, 'details', LIMITS.smallJsonBytes);
    const leaseToken = optionalString(input.leaseToken, 'leaseToken');
    const holder = optionalString(input.holder, 'holder');
    return this.writeSoon(() => {
      const now = this.now();
      if (leaseToken !== null) this.requireLease(taskId, leaseToken, holder);
      else if (holder !== null) throw new TaskwireError('FORBIDDEN', 'a worker may log only on tasks it holds: give the leaseToken');
      else if (!this.taskRow(taskId)) throw notFound('task', taskId);
      return this.addLog(taskId, now, level, message, details);
    });
  }

  // ---------------------------------------------------------------- reads

  async getTask(id: number): Promise<Task | null> {
    return this.read(() => {
      const row = this.taskRow(id);
      return row ? toTask(row) : null;
    });
  }

  /** Rows by id, in the order asked, null where missing: the batch load behind every dataloader. */
  private loadByIds<K, R extends { id: K }, T>(sql: string, ids: readonly K[], map: (row: R) => T): (T | null)[] {
    return this.read(() => {
      const rows = this.sql.get(sql).all(JSON.stringify(ids)) as R[];
      const byId = new Map(rows.map((r) => [r.id, map(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  async getTasks(ids: readonly number[]): Promise<(Task | null)[]> {
    return this.read(() => {
      const rows = this.sql.raw(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as unknown[][];
      const byId = new Map(rows.map((r) => [r[0] as number, toTaskFromValues(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  async getTaskByIdempotencyKey(key: string): Promise<Task | null> {
    return this.read(() => {
      const row = this.sql.get(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`).get(key) as TaskRow | undefined;
      return row ? toTask(row) : null;
    });
  }

  /** WHERE clause and parameters for a TaskFilter. Region and format use their indexes. */
  private filterSql(filter: TaskFilter | null | undefined): { where: string[]; params: unknown[] } {
    const f = checkFilter(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    const inList = (column: string, values: readonly unknown[] | null | undefined) => {
      if (!values) return;
      if (values.length === 0) {
        where.push('0');
        return;
      }
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    // One condition per filter field that is set; NULL and undefined mean "any".
    const compare = (column: string, op: string, value: unknown) => {
      if (value === undefined || value === null) return;
      where.push(`${column} ${op} ?`);
      params.push(value);
    };
    inList('status', f.status);
    // The same condition again as a literal, worded like a partial index's WHERE, so that
    // SQLite may use that index (it matches partial indexes against the query's text, and
    // a bound parameter matches nothing): BLOCKED and finished tasks through
    // ix_tasks_settled_status, QUEUED tasks of one queue through ix_tasks_claim_fifo,
    // RUNNING tasks through ix_tasks_running. Statuses were validated against the enum.
    const only = f.status && f.status.length > 0 ? new Set(f.status) : null;
    if (only && [...only].every((st) => SETTLED_STATUSES.includes(st))) where.push(SETTLED_SQL);
    else if (only?.size === 1 && only.has('QUEUED') && f.queue != null) where.push(`status = 'QUEUED'`);
    else if (only?.size === 1 && only.has('RUNNING')) where.push(`status = 'RUNNING'`);
    compare('queue', '=', f.queue);
    inList('type', f.type);
    inList('region', f.region);
    inList('format', f.format);
    compare('correlation_id', '=', f.correlationId);
    compare('idempotency_key', '=', f.idempotencyKey);
    compare('created_at', '>', f.createdAfter);
    compare('created_at', '<', f.createdBefore);
    return { where, params };
  }

  async listTasks(input: ListTasksInput): Promise<Page<Task>> {
    return this.read(() => {
      const { where, params } = this.filterSql(input.filter);
      const first = optionalInt(input.first, 'first', 0, LIMITS.pageSize) ?? 50;
      const field = input.orderBy?.field ?? 'CREATED_AT';
      const desc = (input.orderBy?.direction ?? 'DESC') === 'DESC';
      // Keyset pagination: the cursor is the last row's sort key, and the next page starts
      // strictly after it. CREATED_AT orders by id, which follows creation order and is unique.
      const key = field === 'PRIORITY' ? 'priority' : field === 'UPDATED_AT' ? 'updated_at' : null;
      if (input.after) {
        const cursor = decodeCursor(input.after);
        const op = desc ? '<' : '>';
        if (key) {
          if (cursor.length !== 2) throw validation('after is not a cursor from this list', 'after');
          where.push(`(${key}, id) ${op} (?, ?)`);
          params.push(cursor[0], cursor[1]);
        } else {
          where.push(`id ${op} ?`);
          params.push(cursor[cursor.length - 1]);
        }
      }
      const dir = desc ? 'DESC' : 'ASC';
      const order = key ? `${key} ${dir}, id ${dir}` : `id ${dir}`;
      // RUNNING rows are few (worker concurrency bounds them): sorting them beats walking
      // the primary key past every finished task.
      const from = where.includes(`status = 'RUNNING'`) ? 'tasks INDEXED BY ix_tasks_running' : 'tasks';
      const sql = `SELECT ${TASK_COLUMNS} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${order} LIMIT ?`;
      const rows = this.sql.get(sql).all(...params, first + 1) as TaskRow[];
      const hasNextPage = rows.length > first;
      const items = rows.slice(0, first).map((r) => ({
        cursor: encodeCursor(key ? [key === 'priority' ? r.priority : r.updated_at, r.id] : [r.id]),
        node: toTask(r),
      }));
      return { items, hasNextPage };
    });
  }

  async countTasks(filter?: TaskFilter | null): Promise<number> {
    return this.read(() => {
      const f = checkFilter(filter);
      // Filters on queue, type and status only are answered from task_counts, without
      // counting rows (a dashboard asks for these totals on every page).
      const countable = [f.region, f.format, f.correlationId, f.idempotencyKey, f.createdAfter, f.createdBefore].every(
        (v) => v === undefined || v === null,
      );
      const { where, params } = this.filterSql(f);
      const sql = `SELECT ${countable ? 'coalesce(sum(count), 0)' : 'count(*)'} AS c FROM ${countable ? 'task_counts' : 'tasks'}
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
      return (this.sql.get(sql).get(...params) as { c: number }).c;
    });
  }

  private edges(sql: string, ids: readonly number[]): number[][] {
    const rows = this.sql.get(sql).all(JSON.stringify(ids)) as { k: number; v: number }[];
    const map = new Map<number, number[]>();
    for (const r of rows) {
      let list = map.get(r.k);
      if (!list) map.set(r.k, (list = []));
      list.push(r.v);
    }
    return ids.map((id) => map.get(id) ?? []);
  }

  async dependencyIds(taskIds: readonly number[]): Promise<number[][]> {
    return this.read(() =>
      this.edges(
        `SELECT task_id AS k, depends_on_id AS v FROM task_dependencies
         WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, depends_on_id`,
        taskIds,
      ),
    );
  }

  async dependentIds(taskIds: readonly number[]): Promise<number[][]> {
    return this.read(() =>
      this.edges(
        `SELECT depends_on_id AS k, task_id AS v FROM task_dependencies
         WHERE depends_on_id IN (SELECT value FROM json_each(?)) ORDER BY depends_on_id, task_id`,
        taskIds,
      ),
    );
  }

  async listLogs(taskId: number, input: ListLogsInput = {}): Promise<Page<TaskLog>> {
    return this.read(() => {
      const first = optionalInt(input.first, 'first', 0, LIMITS.pageSize) ?? DEFAULTS.pageSize;
      const after = input.after ? decodeCursor(input.after)[0]! : 0;
      const rows = this.sql
        .get(`SELECT ${LOG_COLUMNS} FROM task_logs WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?`)
        .all(taskId, after, first + 1) as LogRow[];
      return {
        items: rows.slice(0, first).map((r) => ({ cursor: encodeCursor([r.id]), node: toLog(r) })),
        hasNextPage: rows.length > first,
      };
    });
  }

  async logsForTasks(taskIds: readonly number[], perTask: number): Promise<TaskLog[][]> {
    return this.read(() => {
      const rows = this.sql
        .get(
          `SELECT ${LOG_COLUMNS} FROM (
             SELECT ${LOG_COLUMNS}, row_number() OVER (PARTITION BY task_id ORDER BY id) AS n
             FROM task_logs WHERE task_id IN (SELECT value FROM json_each(?)))
           WHERE n <= ? ORDER BY task_id, id`,
        )
        .all(JSON.stringify(taskIds), perTask) as LogRow[];
      const map = new Map<number, TaskLog[]>();
      for (const r of rows) {
        let list = map.get(r.task_id);
        if (!list) map.set(r.task_id, (list = []));
        list.push(toLog(r));
      }
      return taskIds.map((id) => map.get(id) ?? []);
    });
  }

  async getLog(id: number): Promise<TaskLog | null> {
    return this.read(() => {
      const row = this.sql.get(`SELECT ${LOG_COLUMNS} FROM task_logs WHERE id = ?`).get(id) as LogRow | undefined;
      return row ? toLog(row) : null;
    });
  }

  async getWorker(id: string): Promise<Worker | null> {
    return (await this.getWorkers([id]))[0]!;
  }

  async getWorkers(ids: readonly string[]): Promise<(Worker | null)[]> {
    return this.loadByIds(`SELECT ${WORKER_COLUMNS} FROM workers WHERE id IN (SELECT value FROM json_each(?))`, ids, toWorker);
  }

  async listWorkers(status?: readonly WorkerStatus[] | null): Promise<Worker[]> {
    return this.read(() => {
      const rows = status
        ? (this.sql
            .get(`SELECT ${WORKER_COLUMNS} FROM workers WHERE status IN (SELECT value FROM json_each(?)) ORDER BY id`)
            .all(JSON.stringify(status)) as WorkerRow[])
        : (this.sql.get(`SELECT ${WORKER_COLUMNS} FROM workers ORDER BY id`).all() as WorkerRow[]);
      return rows.map(toWorker);
    });
  }

  async tasksLockedBy(workerIds: readonly string[]): Promise<Task[][]> {
    return this.read(() => {
      const rows = this.sql
        .get(
          `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND locked_by IN (SELECT value FROM json_each(?)) ORDER BY id`,
        )
        .all(JSON.stringify(workerIds)) as TaskRow[];
      return workerIds.map((w) => rows.filter((r) => r.locked_by === w).map(toTask));
    });
  }

  async stats(queue?: string | null): Promise<QueueStats> {
    return this.read(() => {
      const now = this.now();
      const q = queue ?? null;
      // task_counts is kept by triggers in the same transactions as the rows (migration 004).
      const grouped = this.sql
        .get(
          `SELECT type, status, sum(count) AS c FROM task_counts
           WHERE (@q IS NULL OR queue = @q) AND count > 0 GROUP BY type, status`,
        )
        .all({ q }) as { type: string; status: TaskStatus; c: number }[];
      const counts = new Map<TaskStatus, number>(TASK_STATUSES.map((s) => [s, 0]));
      const byType = new Map<string, TypeStats>();
      for (const g of grouped) {
        counts.set(g.status, counts.get(g.status)! + g.c);
        let t = byType.get(g.type);
        if (!t) byType.set(g.type, (t = { type: g.type, queued: 0, running: 0, succeeded: 0, failed: 0 }));
        if (g.status === 'QUEUED') t.queued += g.c;
        else if (g.status === 'RUNNING') t.running += g.c;
        else if (g.status === 'SUCCEEDED') t.succeeded += g.c;
        else if (g.status === 'FAILED') t.failed += g.c;
      }
      // The oldest queued task of a queue is the first entry of its FIFO claim index: one
      // seek per queue that has queued tasks (the queues come from task_counts).
      const oldest = this.sql
        .get(
          `SELECT min((SELECT created_at FROM tasks INDEXED BY ix_tasks_claim_fifo
                       WHERE status = 'QUEUED' AND queue = c.queue ORDER BY id LIMIT 1)) AS created_at
           FROM (SELECT DISTINCT queue FROM task_counts WHERE status = 'QUEUED' AND count > 0 AND (@q IS NULL OR queue = @q)) c`,
        )
        .get({ q }) as { created_at: number | null };
      const recent = this.sql
        .get(
          `SELECT status, count(*) AS c FROM tasks
           WHERE finished_at >= @since AND (@q IS NULL OR queue = @q) GROUP BY status`,
        )
        .all({ since: now - 60_000, q }) as { status: TaskStatus; c: number }[];
      const active = this.sql.get(`SELECT count(*) AS c FROM workers WHERE status = 'ACTIVE'`).get() as { c: number };
      return {
        queue: q,
        counts: TASK_STATUSES.map((status) => ({ status, count: counts.get(status)! })),
        byType: [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)),
        oldestQueuedAgeSeconds: oldest.created_at !== null ? Math.max(0, (now - oldest.created_at) / 1000) : null,
        activeWorkers: active.c,
        succeededLastMinute: recent.find((r) => r.status === 'SUCCEEDED')?.c ?? 0,
        failedLastMinute: recent.find((r) => r.status === 'FAILED')?.c ?? 0,
      };
    });
  }

  // ---------------------------------------------------------------- schedules

  private scheduleRow(name: string): ScheduleRow | undefined {
    return this.sql.get(`SELECT * FROM schedules WHERE name = ?`).get(name) as ScheduleRow | undefined;
  }

  async upsertSchedule(input: UpsertScheduleInput): Promise<Schedule> {
    if (!isPlainObject(input)) throw validation('input must be an object');
    const name = requireString(input.name, 'name');
    const timezone = checkTimezone(optionalString(input.timezone, 'timezone') ?? 'UTC');
    const cron = optionalString(input.cron, 'cron');
    const intervalSeconds = optionalInt(input.intervalSeconds, 'intervalSeconds', 1, LIMITS.delaySeconds);
    if ((cron === null) === (intervalSeconds === null)) {
      throw validation('give exactly one of cron and intervalSeconds', cron === null ? 'cron' : 'intervalSeconds');
    }
    if (cron !== null) checkCron(cron, timezone);
    if (!isPlainObject(input.task)) throw validation('task must be an object', 'task');
    const t = this.normalizeEnqueue({ ...input.task, dependsOn: null, runAfter: null, delaySeconds: null }, 0);
    const enabled = input.enabled !== false;
    return this.write(() => {
      const now = this.now();
      const before = this.scheduleRow(name);
      const { anchorAt: anchor, nextRunAt: next } = upsertTiming(before ? storedTiming(before) : null, { cron, intervalSeconds, timezone }, enabled, now);
      this.sql
        .get(
          `INSERT INTO schedules (name, cron, interval_seconds, timezone, enabled, task_type, task_payload, task_queue,
             task_priority, task_compatibility, task_max_attempts, task_timeout_seconds, anchor_at, next_run_at,
             created_at, updated_at)
           VALUES (@name, @cron, @intervalSeconds, @timezone, @enabled, @type, @payload, @queue, @priority,
             @compatibility, @maxAttempts, @timeoutSeconds, @anchor, @next, @now, @now)
           ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, interval_seconds = excluded.interval_seconds,
             timezone = excluded.timezone, enabled = excluded.enabled, task_type = excluded.task_type,
             task_payload = excluded.task_payload, task_queue = excluded.task_queue,
             task_priority = excluded.task_priority, task_compatibility = excluded.task_compatibility,
             task_max_attempts = excluded.task_max_attempts, task_timeout_seconds = excluded.task_timeout_seconds,
             anchor_at = excluded.anchor_at, next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`,
        )
        .run({
          name,
          cron,
          intervalSeconds,
          timezone,
          enabled: enabled ? 1 : 0,
          type: t.type,
          payload: t.payload,
          queue: t.queue,
          priority: t.priority,
          compatibility: t.compatibility,
          maxAttempts: t.maxAttempts,
          timeoutSeconds: t.timeoutSeconds,
          anchor,
          next,
          now,
        });
      return toSchedule(this.scheduleRow(name)!);
    });
  }

  async setScheduleEnabled(name: string, enabled: boolean): Promise<Schedule> {
    const n = requireString(name, 'name');
    if (typeof enabled !== 'boolean') throw validation('enabled must be true or false', 'enabled');
    return this.write(() => {
      const row = this.scheduleRow(n);
      if (!row) throw notFound('schedule', n);
      const now = this.now();
      const next = toggledNextRun(storedTiming(row), enabled, now);
      this.sql
        .get('UPDATE schedules SET enabled = ?, next_run_at = ?, updated_at = ? WHERE name = ?')
        .run(enabled ? 1 : 0, next, now, n);
      return toSchedule(this.scheduleRow(n)!);
    });
  }

  async deleteSchedule(name: string): Promise<boolean> {
    const n = requireString(name, 'name');
    return this.write(() => this.sql.get('DELETE FROM schedules WHERE name = ?').run(n).changes > 0);
  }

  async listSchedules(): Promise<Schedule[]> {
    return this.read(() => (this.sql.get('SELECT * FROM schedules ORDER BY name').all() as ScheduleRow[]).map(toSchedule));
  }

  async fireDueSchedules(): Promise<FireResult> {
    return this.background(() => {
      const now = this.now();
      const due = this.sql
        .get(`SELECT * FROM schedules INDEXED BY ix_schedules_due WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at`)
        .all(now) as ScheduleRow[];
      const fired: FireResult['fired'] = [];
      const failed: FireResult['failed'] = [];
      for (const row of due) {
        const { fireAt, missed, next, key } = planFire(row.name, { ...storedTiming(row), nextRunAt: row.next_run_at! }, now);
        let taskId: number | null = row.last_task_id;
        try {
          // A savepoint per schedule: one whose template no longer passes (say, a smaller
          // payload limit on this server) is skipped, and the others still fire.
          const result = this.runInTransaction.immediate(() =>
            this.enqueueOne(
              {
                type: row.task_type,
                payload: JSON.parse(row.task_payload),
                queue: row.task_queue,
                priority: row.task_priority,
                compatibility: JSON.parse(row.task_compatibility),
                maxAttempts: row.task_max_attempts,
                timeoutSeconds: row.task_timeout_seconds,
                idempotencyKey: key,
                correlationId: `schedule:${row.name}`,
              },
              now,
            ),
          ) as EnqueueResult;
          taskId = result.task.id;
          if (result.created) {
            const note = missed > 0 ? `; ${missed >= MAX_MISSED ? `at least ${MAX_MISSED}` : missed} fire(s) missed while the scheduler was down were folded into this one` : '';
            this.addLog(taskId, now, missed > 0 ? 'WARN' : 'INFO', `enqueued by schedule ${row.name} for ${new Date(fireAt).toISOString()}${note}`, null);
            fired.push({ schedule: row.name, taskId, fireAt, missed });
          }
        } catch (e) {
          if (!(e instanceof TaskwireError) || e.code !== 'VALIDATION') throw e;
          failed.push({ schedule: row.name, fireAt, error: e.message });
        }
        this.sql
          .get('UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_task_id = ?, updated_at = ? WHERE name = ?')
          .run(next, fireAt, taskId, now, row.name);
      }
      return { fired, failed };
    });
  }

  async taskCounts(): Promise<{ queue: string; type: string; status: TaskStatus; count: number }[]> {
    return this.read(
      () =>
        this.sql
          .get('SELECT queue, type, status, count FROM task_counts WHERE count > 0 ORDER BY queue, status, type')
          .all() as { queue: string; type: string; status: TaskStatus; count: number }[],
    );
  }

  // ---------------------------------------------------------------- concurrency limits

  async setConcurrencyLimit(limit: ConcurrencyLimit): Promise<ConcurrencyLimit> {
    if (!isPlainObject(limit)) throw validation('input must be an object');
    const queue = requireString(limit.queue, 'queue');
    const type = optionalString(limit.type, 'type', LIMITS.nameLength);
    const max = optionalInt(limit.limit, 'limit', 0, 1_000_000);
    return this.write(() => {
      if (max === null) {
        this.sql.get('DELETE FROM concurrency_limits WHERE queue = ? AND type = ?').run(queue, type ?? '');
      } else {
        this.sql
          .get(
            `INSERT INTO concurrency_limits (queue, type, max_running) VALUES (?, ?, ?)
             ON CONFLICT (queue, type) DO UPDATE SET max_running = excluded.max_running`,
          )
          .run(queue, type ?? '', max);
      }
      return { queue, type, limit: max };
    });
  }

  async listConcurrencyLimits(): Promise<ConcurrencyLimit[]> {
    return this.read(() => {
      const rows = this.sql.get('SELECT queue, type, max_running FROM concurrency_limits ORDER BY queue, type').all() as {
        queue: string;
        type: string;
        max_running: number;
      }[];
      return rows.map((r) => ({ queue: r.queue, type: r.type === '' ? null : r.type, limit: r.max_running }));
    });
  }

  // ---------------------------------------------------------------- access tokens

  private tokenCache = new Map<string, { info: TokenInfo | null; until: number }>();
  private activeTokens: { value: boolean; until: number } | null = null;

  async createToken(input: { name: string; role: Role; workerId?: string | null }): Promise<{ token: string; info: TokenInfo }> {
    const name = requireString(input?.name, 'name');
    if (!ROLES.includes(input.role)) throw validation(`role must be one of ${ROLES.join(', ')}`, 'role');
    const workerId = input.role === 'worker' ? (optionalString(input.workerId, 'workerId') ?? name) : null;
    const fresh = generateToken();
    return this.write(() => {
      const now = this.now();
      this.sql
        .get('INSERT INTO api_tokens (id, name, role, worker_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(fresh.id, name, input.role, workerId, fresh.hash, now);
      this.activeTokens = null;
      return { token: fresh.token, info: { id: fresh.id, name, role: input.role, workerId, createdAt: now, revokedAt: null } };
    });
  }

  async listTokens(): Promise<TokenInfo[]> {
    return this.read(() => (this.sql.get('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map(toTokenInfo));
  }

  async revokeToken(id: string): Promise<TokenInfo> {
    const tokenIdArg = requireString(id, 'id');
    return this.write(() => {
      const row = this.sql
        .get('UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *')
        .get(this.now(), tokenIdArg) as TokenRow | undefined;
      if (!row) throw notFound('token', tokenIdArg);
      this.tokenCache.clear();
      this.activeTokens = null;
      return toTokenInfo(row);
    });
  }

  /**
   * Verifications are cached for a second: a request checks its token without a query,
   * and a revocation (also by another process) takes effect within that second.
   */
  async authenticate(token: string): Promise<TokenInfo | null> {
    if (typeof token !== 'string') return null;
    const id = tokenId(token);
    if (!id) return null;
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.tokenCache.get(hash);
    if (cached && cached.until > now) return cached.info;
    const info = this.read(() => {
      const row = this.sql.get('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
      return row && row.revoked_at === null && sameHash(row.token_hash, hash) ? toTokenInfo(row) : null;
    });
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(hash, { info, until: now + 1000 });
    return info;
  }

  async hasTokens(): Promise<boolean> {
    const now = Date.now();
    if (this.activeTokens && this.activeTokens.until > now) return this.activeTokens.value;
    const value = this.read(() => !!this.sql.get('SELECT 1 FROM api_tokens LIMIT 1').get());
    this.activeTokens = { value, until: now + 1000 };
    return value;
  }

  // ---------------------------------------------------------------- outbox

  async eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
    return this.read(() => {
      const rows = this.sql
        .get(`SELECT ${EVENT_COLUMNS} FROM task_events WHERE id > ? ORDER BY id LIMIT ?`)
        .all(after, limit) as EventRow[];
      return rows.map(toEvent);
    });
  }

  private lastEventIdSync(): number {
    // sqlite_sequence holds the highest id ever given, even after the rows were trimmed.
    const row = this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'task_events'`).get() as
      | { seq: number }
      | undefined;
    return row?.seq ?? 0;
  }

  async lastEventId(): Promise<number> {
    return this.read(() => this.lastEventIdSync());
  }

  // ---------------------------------------------------------------- upkeep

  async sweep(): Promise<SweepResult> {
    return this.background(() => {
      const now = this.now();
      let expired = 0;
      let timedOut = 0;
      // Timeouts first: a task past its deadline fails its attempt even while its worker
      // keeps renewing the lease.
      const late = this.sql
        .get(
          `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND timeout_at IS NOT NULL AND timeout_at <= ?`,
        )
        .all(now) as TaskRow[];
      for (const row of late) {
        const task = toTask(row);
        // Another sweeper (or the worker) may have ended it since the SELECT: count only ours.
        if (this.endAttempt(task, `timed out after ${task.timeoutSeconds}s`, true, null, now, 'TIMED_OUT')) timedOut++;
      }
      const lapsed = this.sql
        .get(
          `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY ix_tasks_running
           WHERE status = 'RUNNING' AND lease_until < ?`,
        )
        .all(now) as TaskRow[];
      for (const row of lapsed) {
        const task = toTask(row);
        const error = `lease expired: worker ${task.lockedBy ?? '?'} stopped renewing it`;
        if (this.endAttempt(task, error, true, null, now, 'LEASE_EXPIRED')) expired++;
      }
      const stale = this.sql
        .get(`UPDATE workers SET status = 'STALE' WHERE status = 'ACTIVE' AND heartbeat_at < ? RETURNING id`)
        .all(now - this.opts.staleWorkerAfterMs) as { id: string }[];
      for (const w of stale) this.emit('WORKER_UPDATED', now, { workerId: w.id });
      return { expired, timedOut, staleWorkers: stale.length };
    });
  }

  async cleanup(olderThanMs: number): Promise<CleanupResult> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw validation('olderThan must be a positive duration');
    const cutoff = this.now() - olderThanMs;
    const total: CleanupResult = { tasks: 0, logs: 0, events: 0 };
    // Batches keep each write transaction short, so claims are not held up for long.
    for (;;) {
      const batch = this.write(() => {
        const ids = this.sql
          .get(
            `SELECT id FROM tasks INDEXED BY ix_tasks_finished
             WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ${FINISHED_SQL} LIMIT 2000`,
          )
          .all(cutoff) as { id: number }[];
        if (ids.length === 0) return null;
        const list = JSON.stringify(ids.map((r) => r.id));
        const logs = this.sql.get('DELETE FROM task_logs WHERE task_id IN (SELECT value FROM json_each(?))').run(list).changes;
        this.sql.get('DELETE FROM task_dependencies WHERE task_id IN (SELECT value FROM json_each(?))').run(list);
        this.sql.get('DELETE FROM task_dependencies WHERE depends_on_id IN (SELECT value FROM json_each(?))').run(list);
        const tasks = this.sql.get('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))').run(list).changes;
        return { tasks, logs };
      });
      if (!batch) break;
      total.tasks += batch.tasks;
      total.logs += batch.logs;
    }
    // Every event of a task that finished before the cutoff happened before it too.
    total.events = await this.trimEvents(olderThanMs, Number.MAX_SAFE_INTEGER);
    return total;
  }

  async trimEvents(olderThanMs: number, keepAtMost: number): Promise<number> {
    return this.write(() => {
      // Never the last minute: another process tailing the outbox may not have read it yet.
      const cutoff = this.now() - Math.max(olderThanMs, LIMITS.eventGraceMs);
      let removed = this.sql
        .get(`DELETE FROM task_events WHERE id IN (SELECT id FROM task_events WHERE at < ? ORDER BY id LIMIT 100000)`)
        .run(cutoff).changes;
      const last = this.lastEventIdSync();
      if (keepAtMost < Number.MAX_SAFE_INTEGER) {
        removed += this.sql
          .get('DELETE FROM task_events WHERE id <= ? AND at < ?')
          .run(last - keepAtMost, this.now() - LIMITS.eventGraceMs).changes;
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.tailTimer) clearInterval(this.tailTimer);
    this.flushQueued(); // writes already accepted are committed, not dropped
    this.tail();
    this.closed = true;
    await this.checkpoints?.stop();
    try {
      // A reader in another process can hold the checkpoint back; wait briefly, not for
      // the whole busy timeout: the next opener checkpoints anyway.
      this.db.pragma('busy_timeout = 200');
      this.db.pragma('optimize');
      if (this.info.location !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Closing must not fail because another process holds the lock.
    }
    this.db.close();
  }
}

interface ScheduleRow {
  name: string;
  cron: string | null;
  interval_seconds: number | null;
  timezone: string;
  enabled: number;
  task_type: string;
  task_payload: string;
  task_queue: string;
  task_priority: number;
  task_compatibility: string;
  task_max_attempts: number;
  task_timeout_seconds: number | null;
  anchor_at: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_id: number | null;
}

/** What the generated region/format columns hold for a JSON value (json_extract, as text). */
/**
 * A guarded UPDATE matched no row: the task left the status it was read in before the
 * write (possible only where several writers share the database). The caller tries again.
 */
function changedMeanwhile(taskId: number): never {
  throw new TaskwireError('CONFLICT', `task ${taskId} changed while this change was being made; try again`, { taskId });
}

function jsonScalarText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  worker_id: string | null;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

function toTokenInfo(r: TokenRow): TokenInfo {
  return { id: r.id, name: r.name, role: r.role, workerId: r.worker_id, createdAt: r.created_at, revokedAt: r.revoked_at };
}

function storedTiming(row: ScheduleRow): StoredTiming {
  return {
    cron: row.cron,
    intervalSeconds: row.interval_seconds,
    timezone: row.timezone,
    enabled: row.enabled === 1,
    anchorAt: row.anchor_at,
    nextRunAt: row.next_run_at,
  };
}

function toSchedule(row: ScheduleRow): Schedule {
  return {
    name: row.name,
    cron: row.cron,
    intervalSeconds: row.interval_seconds,
    timezone: row.timezone,
    enabled: row.enabled !== 0,
    task: {
      type: row.task_type,
      payload: JSON.parse(row.task_payload),
      queue: row.task_queue,
      priority: row.task_priority,
      compatibility: JSON.parse(row.task_compatibility),
      maxAttempts: row.task_max_attempts,
      timeoutSeconds: row.task_timeout_seconds,
    },
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastTaskId: row.last_task_id,
  };
}

function encodeCursor(values: number[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string): number[] {
  try {
    const v = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length > 0 && v.length <= 2 && v.every((x) => Number.isSafeInteger(x))) return v;
  } catch {
    // fall through
  }
  throw validation('after is not a cursor from this list', 'after');
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteTaskStore {
  return new SqliteTaskStore(options);
}

/**
 * The engine: TaskStore, written once for every driver. Each method checks its input,
 * hands the operation's unit (engine/ops) to the driver, and returns what it answered.
 * Rules live in engine/rules, SQL in the drivers; this file holds neither.
 */
import type { EventBus } from '../../events/bus.js';
import type { Driver } from '../driver.js';
import { notFound, validation } from '../errors.js';
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
  BulkResult,
  JsonObject,
  MetadataInput,
  QueuePause,
  ReleaseInput,
  TaskEdit,
  FireResult,
  HeartbeatInput,
  HeartbeatResult,
  ListLogsInput,
  ListTasksInput,
  Maintenance,
  Page,
  ProgressInput,
  QueueStats,
  Role,
  Schedule,
  StoredEvent,
  StoreInfo,
  SweepResult,
  Task,
  TaskFilter,
  TaskLog,
  TaskStatus,
  TaskStore,
  TokenInfo,
  UpsertScheduleInput,
  Worker,
  WorkerStatus,
} from '../types.js';
import { ROLES, generateToken, hashToken, sameHash, tokenId } from '../tokens.js';
import {
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
import { DEFAULTS, LIMITS } from './defaults.js';
import type { EngineEnv } from './env.js';
import { claim } from './ops/claim.js';
import { cancel, retry, update } from './ops/cancel-retry.js';
import { enqueueMany, enqueueOne, payloadEdit } from './ops/enqueue.js';
import { appendLog, complete, fail, heartbeat, release, reportProgress, updateMetadata } from './ops/leases.js';
import { cleanupBatch, trimEvents } from './ops/retention.js';
import { fireDueSchedules, normalizeSchedule, setScheduleEnabled, toSchedule, upsertSchedule } from './ops/schedules.js';
import { BULK_STATUSES, bulk, type BulkAction } from './ops/bulk.js';
import { setPaused } from './ops/pauses.js';
import { sweep } from './ops/sweep.js';
import { idPage, taskPage, taskQuery, decodeCursor } from './rules/paging.js';
import { foldStats } from './rules/stats.js';
import { call, type Unit } from './unit.js';
import type { LeaseRef, StoredEdit } from '../driver.js';

export interface EngineOptions {
  now?: () => number;
  random?: () => number;
  defaultLeaseSeconds?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  staleWorkerAfterMs?: number;
  maxPayloadBytes?: number;
}

/** How long a token verification (and "are there tokens at all") is trusted, in ms. */
const TOKEN_CACHE_MS = 1000;

function requireObject(input: unknown): void {
  if (!isPlainObject(input)) throw validation('input must be an object');
}

/** The lease a call names: task, token, and the worker it must be held by (if any). */
function leaseRef(input: { taskId: unknown; leaseToken: unknown; holder?: unknown }): LeaseRef {
  return {
    taskId: requireTaskId(input.taskId),
    leaseToken: requireString(input.leaseToken, 'leaseToken'),
    holder: optionalString(input.holder, 'holder'),
  };
}

/** A batch argument: a list of at most LIMITS.batch inputs. */
function batchOf(inputs: unknown, what: string): void {
  if (!Array.isArray(inputs)) throw validation('inputs must be a list');
  if (inputs.length > LIMITS.batch) throw validation(`at most ${LIMITS.batch} ${what} at once`, 'inputs');
}

export class Engine implements TaskStore {
  readonly info: StoreInfo;
  readonly maintenance: Maintenance;
  readonly bus: EventBus;
  protected readonly env: EngineEnv;

  constructor(
    protected readonly driver: Driver,
    options: EngineOptions = {},
  ) {
    this.info = driver.info;
    this.maintenance = driver.maintenance;
    this.bus = driver.bus;
    this.env = {
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      defaultLeaseSeconds: options.defaultLeaseSeconds ?? DEFAULTS.leaseSeconds,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffCapMs: options.backoffCapMs ?? DEFAULTS.backoffCapMs,
      staleWorkerAfterMs: options.staleWorkerAfterMs ?? DEFAULTS.staleWorkerAfterMs,
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes,
    };
  }

  private read<T>(unit: Unit<T>): Promise<T> {
    return this.driver.read(unit);
  }

  // ---------------------------------------------------------------- producers

  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return this.driver.write(this.enqueueUnit(input));
  }

  private *enqueueUnit(input: EnqueueInput): Unit<EnqueueResult> {
    return yield* enqueueOne(input, this.env.now(), this.env);
  }

  async enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    if (!Array.isArray(inputs)) throw validation('inputs must be a list');
    return this.driver.write(enqueueMany(inputs, this.env));
  }

  async cancel(id: number, reason?: string | null, onlyCreatedBy?: string | null): Promise<Task> {
    const taskId = requireTaskId(id, 'id');
    const why = optionalString(reason, 'reason', LIMITS.messageLength) ?? 'cancelled';
    return this.driver.write(cancel(taskId, why, onlyCreatedBy ?? null, this.env));
  }

  async retry(id: number, options: { payload?: unknown } = {}): Promise<Task> {
    const taskId = requireTaskId(id, 'id');
    const edit = options.payload === undefined || options.payload === null ? null : this.payloadEdit(options.payload);
    return this.driver.write(retry(taskId, this.env, edit));
  }

  /** An edit of the payload alone (and the format derived from it). */
  private payloadEdit(value: unknown): StoredEdit {
    return payloadEdit(jsonObject(value, 'payload', this.env.maxPayloadBytes));
  }

  async bulk(action: BulkAction, filter: TaskFilter | null, options: { limit?: number | null; after?: number | null } = {}): Promise<BulkResult> {
    if (!(action in BULK_STATUSES)) throw validation(`unknown bulk action ${String(action)}`, 'action');
    const checked = checkFilter(filter);
    const max = optionalInt(options.limit, 'limit', 1, LIMITS.batch) ?? 500;
    const after = options.after === undefined || options.after === null ? null : requireTaskId(options.after, 'after');
    const acted: readonly TaskStatus[] = BULK_STATUSES[action];
    const status = checked.status ? checked.status.filter((s) => acted.includes(s)) : acted;
    if (status.length === 0) return { changed: 0, skipped: 0, hasMore: false, lastId: null };
    const query = { filter: { ...checked, status }, key: null, desc: false, after: after === null ? null : [after], limit: max + 1 };
    const rows = await this.read(call('listTasks', query));
    const ids = rows.slice(0, max).map((t) => t.id);
    if (ids.length === 0) return { changed: 0, skipped: 0, hasMore: false, lastId: null };
    const r = await this.driver.write(bulk(action, ids, 'cancelled by a bulk action', this.env));
    return { ...r, hasMore: rows.length > max, lastId: ids[ids.length - 1]! };
  }

  async update(id: number, edit: TaskEdit, onlyCreatedBy: string | null = null): Promise<Task> {
    const taskId = requireTaskId(id, 'id');
    requireObject(edit);
    const withPayload = edit.payload === undefined || edit.payload === null ? null : this.payloadEdit(edit.payload);
    const runAfter = edit.runAfter === undefined || edit.runAfter === null ? null : edit.runAfter;
    if (runAfter !== null && (typeof runAfter !== 'number' || !Number.isFinite(runAfter) || runAfter < 0)) {
      throw validation('runAfter is not a valid time', 'runAfter');
    }
    const stored = {
      payload: withPayload?.payload ?? null,
      format: withPayload?.format ?? null,
      priority: optionalInt(edit.priority, 'priority', -LIMITS.priority, LIMITS.priority),
      runAfter: runAfter === null ? null : Math.trunc(runAfter),
      maxAttempts: optionalInt(edit.maxAttempts, 'maxAttempts', 1, LIMITS.maxAttempts),
    };
    if (Object.values(stored).every((v) => v === null)) throw validation('give at least one of payload, priority, runAfter, maxAttempts');
    return this.driver.write(update(taskId, stored, onlyCreatedBy, this.env));
  }

  // ---------------------------------------------------------------- workers

  async claim(input: ClaimInput): Promise<ClaimedTask[]> {
    requireObject(input);
    const workerId = requireString(input.workerId, 'workerId');
    const queue = input.queue === undefined || input.queue === null ? DEFAULTS.queue : requireString(input.queue, 'queue');
    const types = optionalStringList(input.types, 'types');
    const match = workerMatch(input.capabilities);
    const capabilities = input.capabilities ? jsonObject(input.capabilities, 'capabilities', LIMITS.smallJsonBytes) : null;
    const limit = optionalInt(input.limit, 'limit', 1, LIMITS.claimLimit) ?? DEFAULTS.claimLimit;
    const leaseSeconds = optionalInt(input.leaseSeconds, 'leaseSeconds', 1, LIMITS.leaseSeconds) ?? this.env.defaultLeaseSeconds;
    const strategy = requireStrategy(input.strategy);
    if (types && types.length === 0) return [];
    return this.driver.write(claim({ workerId, queue, types, match, capabilities, limit, leaseSeconds, strategy }, this.env));
  }

  async heartbeat(input: HeartbeatInput): Promise<HeartbeatResult> {
    requireObject(input);
    const workerId = requireString(input.workerId, 'workerId');
    const extendSeconds = optionalInt(input.extendSeconds, 'extendSeconds', 1, LIMITS.leaseSeconds) ?? this.env.defaultLeaseSeconds;
    const capabilities = input.capabilities ? jsonObject(input.capabilities, 'capabilities', LIMITS.smallJsonBytes) : null;
    const leases = input.leases ?? [];
    if (!Array.isArray(leases) || leases.length > LIMITS.claimLimit) {
      throw validation(`leases must be a list of at most ${LIMITS.claimLimit}`, 'leases');
    }
    const refs = leases.map((l) => ({ taskId: requireTaskId(l?.taskId), leaseToken: requireString(l?.leaseToken, 'leaseToken') }));
    return this.driver.write(heartbeat({ workerId, capabilities, extendSeconds, leases: refs }, this.env));
  }

  async reportProgress(input: ProgressInput): Promise<Task> {
    requireObject(input);
    const ref = leaseRef(input);
    const progress = requireProgress(input.progress);
    const message = optionalString(input.message, 'message', LIMITS.messageLength);
    return this.driver.write(reportProgress(ref, progress, message, this.env));
  }

  async updateMetadata(input: MetadataInput): Promise<Task> {
    requireObject(input);
    const ref = leaseRef(input);
    const patch = JSON.parse(jsonObject(input.metadata, 'metadata', LIMITS.metadataBytes)) as JsonObject;
    const mode = input.mode ?? 'MERGE';
    if (mode !== 'SET' && mode !== 'MERGE') throw validation('mode must be SET or MERGE', 'mode');
    return this.driver.write(updateMetadata(ref, patch, mode, this.env));
  }

  complete(input: CompleteInput): Promise<Task> {
    return this.driver.write(this.completeUnit([input], true) as Unit<Task>);
  }

  async completeMany(inputs: readonly CompleteInput[]): Promise<Task[]> {
    batchOf(inputs, 'completions');
    return this.driver.write(this.completeUnit(inputs, false) as Unit<Task[]>);
  }

  /** Inputs are checked inside the unit (an error rejects the call, as any write's does), all before the first is written. */
  private *completeUnit(inputs: readonly CompleteInput[], single: boolean): Unit<Task | Task[]> {
    const now = this.env.now();
    const refs: LeaseRef[] = [];
    const results: (string | null)[] = [];
    for (const input of inputs) {
      requireObject(input);
      refs.push(leaseRef(input));
      results.push(input.result === undefined ? null : toJson(input.result, 'result', this.env.maxPayloadBytes));
    }
    if (refs.length === 0) return [];
    const done = yield* complete(refs, results, now);
    return single ? done[0]! : done;
  }

  async release(inputs: readonly ReleaseInput[]): Promise<Task[]> {
    batchOf(inputs, 'leases');
    const refs = inputs.map((input) => {
      requireObject(input);
      return leaseRef(input);
    });
    if (refs.length === 0) return [];
    return this.driver.write(release(refs, this.env));
  }

  fail(input: FailInput): Promise<Task> {
    return this.driver.write(this.failUnit([input], true) as Unit<Task>);
  }

  async failMany(inputs: readonly FailInput[]): Promise<Task[]> {
    batchOf(inputs, 'failures');
    return this.driver.write(this.failUnit(inputs, false) as Unit<Task[]>);
  }

  /** Like completeUnit: every input is checked before the first attempt ends. */
  private *failUnit(inputs: readonly FailInput[], single: boolean): Unit<Task | Task[]> {
    const failures = inputs.map((input) => {
      requireObject(input);
      const ref = leaseRef(input);
      const error = requireString(input.error, 'error', LIMITS.errorLength);
      const retryAfterSeconds = optionalInt(input.retryAfterSeconds, 'retryAfterSeconds', 0, LIMITS.delaySeconds);
      return { ref, failure: { error, retryable: input.retryable !== false, retryAfterSeconds } };
    });
    const done: Task[] = [];
    for (const { ref, failure } of failures) done.push(yield* fail(ref, failure, this.env));
    return single ? done[0]! : done;
  }

  async appendLog(input: AppendLogInput): Promise<TaskLog> {
    requireObject(input);
    const taskId = requireTaskId(input.taskId);
    const level = requireLogLevel(input.level);
    const message = requireString(input.message, 'message', LIMITS.messageLength);
    const details = input.details === undefined || input.details === null ? null : toJson(input.details, 'details', LIMITS.smallJsonBytes);
    const leaseToken = optionalString(input.leaseToken, 'leaseToken');
    const holder = optionalString(input.holder, 'holder');
    return this.driver.write(appendLog({ taskId, level, message, details, leaseToken, holder }, this.env));
  }

  // ---------------------------------------------------------------- reads

  getTask(id: number): Promise<Task | null> {
    return this.read(call('task', id));
  }

  getTasks(ids: readonly number[]): Promise<(Task | null)[]> {
    return this.read(call('tasks', ids));
  }

  getTaskByIdempotencyKey(key: string): Promise<Task | null> {
    return this.read(call('taskByKey', key));
  }

  async listTasks(input: ListTasksInput): Promise<Page<Task>> {
    const filter = checkFilter(input.filter);
    const first = optionalInt(input.first, 'first', 0, LIMITS.pageSize) ?? DEFAULTS.taskPageSize;
    const query = taskQuery(input, filter, first);
    return taskPage(await this.read(call('listTasks', query)), query);
  }

  async countTasks(filter?: TaskFilter | null): Promise<number> {
    return this.read(call('countTasks', checkFilter(filter)));
  }

  dependencyIds(taskIds: readonly number[]): Promise<number[][]> {
    return this.read(call('dependencyIds', taskIds));
  }

  dependentIds(taskIds: readonly number[]): Promise<number[][]> {
    return this.read(call('dependentIds', taskIds));
  }

  async listLogs(taskId: number, input: ListLogsInput = {}): Promise<Page<TaskLog>> {
    const first = optionalInt(input.first, 'first', 0, LIMITS.pageSize) ?? DEFAULTS.pageSize;
    const after = input.after ? decodeCursor(input.after)[0]! : 0;
    return idPage(await this.read(call('logsAfter', taskId, after, first + 1)), first);
  }

  logsForTasks(taskIds: readonly number[], perTask: number): Promise<TaskLog[][]> {
    return this.read(call('logsForTasks', taskIds, perTask));
  }

  getLog(id: number): Promise<TaskLog | null> {
    return this.read(call('log', id));
  }

  async getWorker(id: string): Promise<Worker | null> {
    return (await this.getWorkers([id]))[0]!;
  }

  getWorkers(ids: readonly string[]): Promise<(Worker | null)[]> {
    return this.read(call('workers', ids));
  }

  listWorkers(status?: readonly WorkerStatus[] | null): Promise<Worker[]> {
    return this.read(call('listWorkers', status ?? null));
  }

  tasksLockedBy(workerIds: readonly string[]): Promise<Task[][]> {
    return this.read(call('tasksLockedBy', workerIds));
  }

  async stats(queue?: string | null): Promise<QueueStats> {
    const now = this.env.now();
    return foldStats(queue ?? null, await this.read(call('statsParts', queue ?? null, now - 60_000)), now);
  }

  taskCounts(): Promise<{ queue: string; type: string; status: TaskStatus; count: number }[]> {
    return this.read(call('taskCounts'));
  }

  eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
    return this.read(call('eventsAfter', after, limit));
  }

  lastEventId(): Promise<number> {
    return this.read(call('lastEventId'));
  }

  // ---------------------------------------------------------------- schedules and limits

  async upsertSchedule(input: UpsertScheduleInput): Promise<Schedule> {
    return this.driver.write(upsertSchedule(normalizeSchedule(input, this.env.maxPayloadBytes), this.env));
  }

  async setScheduleEnabled(name: string, enabled: boolean): Promise<Schedule> {
    const n = requireString(name, 'name');
    if (typeof enabled !== 'boolean') throw validation('enabled must be true or false', 'enabled');
    return this.driver.write(setScheduleEnabled(n, enabled, this.env));
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.driver.write(call('deleteSchedule', requireString(name, 'name')));
  }

  async listSchedules(): Promise<Schedule[]> {
    return (await this.read(call('listSchedules'))).map(toSchedule);
  }

  fireDueSchedules(): Promise<FireResult> {
    return this.driver.write(fireDueSchedules(this.env), 'background');
  }

  async setConcurrencyLimit(limit: ConcurrencyLimit): Promise<ConcurrencyLimit> {
    requireObject(limit);
    const queue = requireString(limit.queue, 'queue');
    const type = optionalString(limit.type, 'type', LIMITS.nameLength);
    const max = optionalInt(limit.limit, 'limit', 0, 1_000_000);
    // '' stands for "the whole queue" in storage, so that (queue, type) can be a key.
    await this.driver.write(max === null ? call('deleteConcurrencyLimit', queue, type ?? '') : call('setConcurrencyLimit', queue, type ?? '', max));
    return { queue, type, limit: max };
  }

  pauseQueue(input: { queue: string; type?: string | null }): Promise<QueuePause> {
    return this.setPaused(input, true);
  }

  resumeQueue(input: { queue: string; type?: string | null }): Promise<QueuePause> {
    return this.setPaused(input, false);
  }

  private async setPaused(input: { queue: string; type?: string | null }, paused: boolean): Promise<QueuePause> {
    requireObject(input);
    const queue = requireString(input.queue, 'queue', LIMITS.nameLength);
    const type = optionalString(input.type, 'type', LIMITS.nameLength);
    await this.driver.write(setPaused(queue, type, paused, this.env.now()));
    const now = (await this.listPauses()).find((p) => p.queue === queue && p.type === type);
    return now ?? { queue, type, paused: false, pausedAt: null };
  }

  async listPauses(): Promise<QueuePause[]> {
    const rows = await this.read(call('listPauses'));
    return rows.map((r) => ({ queue: r.queue, type: r.type === '' ? null : r.type, paused: true, pausedAt: r.pausedAt }));
  }

  async listConcurrencyLimits(): Promise<ConcurrencyLimit[]> {
    const rows = await this.read(call('listConcurrencyLimits'));
    return rows.map((r) => ({ queue: r.queue, type: r.type === '' ? null : r.type, limit: r.maxRunning }));
  }

  // ---------------------------------------------------------------- upkeep

  sweep(): Promise<SweepResult> {
    return this.driver.write(sweep(this.env), 'background');
  }

  async cleanup(olderThanMs: number, options: { background?: boolean } = {}): Promise<CleanupResult> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw validation('olderThan must be a positive duration');
    const cutoff = this.env.now() - olderThanMs;
    // One instance at a time: two would only delete the same rows twice over.
    const removed = await this.driver.singleton('retention', async () => {
      const total: CleanupResult = { tasks: 0, logs: 0, events: 0 };
      for (;;) {
        const batch = await this.driver.write(cleanupBatch(cutoff), options.background ? 'background' : 'grouped');
        if (!batch) break;
        total.tasks += batch.tasks;
        total.logs += batch.logs;
      }
      // Every event of a task that finished before the cutoff happened before it too.
      total.events = await this.trimEvents(olderThanMs, Number.MAX_SAFE_INTEGER, options);
      return total;
    });
    return removed ?? { tasks: 0, logs: 0, events: 0 };
  }

  trimEvents(olderThanMs: number, keepAtMost: number, options: { background?: boolean } = {}): Promise<number> {
    return this.driver.write(trimEvents(olderThanMs, keepAtMost, this.env), options.background ? 'background' : 'grouped');
  }

  // ---------------------------------------------------------------- access tokens

  private tokenCache = new Map<string, { info: TokenInfo | null; until: number }>();
  private activeTokens: { value: boolean; until: number } | null = null;

  async createToken(input: { name: string; role: Role; workerId?: string | null }): Promise<{ token: string; info: TokenInfo }> {
    const name = requireString(input?.name, 'name');
    if (!ROLES.includes(input.role)) throw validation(`role must be one of ${ROLES.join(', ')}`, 'role');
    const workerId = input.role === 'worker' ? (optionalString(input.workerId, 'workerId') ?? name) : null;
    const fresh = generateToken();
    const createdAt = this.env.now();
    await this.driver.write(call('insertToken', { id: fresh.id, name, role: input.role, workerId, hash: fresh.hash, createdAt }));
    this.activeTokens = null;
    return { token: fresh.token, info: { id: fresh.id, name, role: input.role, workerId, createdAt, revokedAt: null } };
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.read(call('listTokens'));
  }

  async revokeToken(id: string): Promise<TokenInfo> {
    const tokenIdArg = requireString(id, 'id');
    const info = await this.driver.write(call('revokeToken', tokenIdArg, this.env.now()));
    if (!info) throw notFound('token', tokenIdArg);
    this.tokenCache.clear();
    this.activeTokens = null;
    return info;
  }

  /**
   * Verifications are cached for a second: a request checks its token without a query,
   * and a revocation (also by another process) takes effect within that second. Wall
   * time, not the injected clock: the cache is about real request traffic.
   */
  async authenticate(token: string): Promise<TokenInfo | null> {
    if (typeof token !== 'string') return null;
    const id = tokenId(token);
    if (!id) return null;
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.tokenCache.get(hash);
    if (cached && cached.until > now) return cached.info;
    const row = await this.read(call('tokenWithHash', id));
    const info = row && row.info.revokedAt === null && sameHash(row.hash, hash) ? row.info : null;
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(hash, { info, until: now + TOKEN_CACHE_MS });
    return info;
  }

  async hasTokens(): Promise<boolean> {
    const now = Date.now();
    if (this.activeTokens && this.activeTokens.until > now) return this.activeTokens.value;
    const value = await this.read(call('anyToken'));
    this.activeTokens = { value, until: now + TOKEN_CACHE_MS };
    return value;
  }

  // ---------------------------------------------------------------- lifecycle

  pollOutbox(): Promise<void> {
    return this.driver.pollFeed();
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

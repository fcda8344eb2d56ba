/**
 * Rows as both dialects store them (the same column names and meanings) and their
 * mappers to the store's types. Where the dialects differ in type, the row says both:
 * SQLite has no boolean (1/0) and PostgreSQL does.
 */
import type { LimitRule } from './engine/rules/claiming.js';
import type { StoredSchedule } from './driver.js';
import type { LogLevel, Role, StoredEvent, Task, TaskLog, TaskStatus, TokenInfo, Worker, WorkerStatus } from './types.js';

export interface TaskRow {
  id: number;
  queue: string;
  type: string;
  priority: number;
  payload: string;
  compatibility: string;
  region: string | null;
  format: string | null;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_until: number | null;
  locked_by: string | null;
  progress: number | null;
  progress_message: string | null;
  result: string | null;
  error_message: string | null;
  cancel_requested: number | boolean;
  idempotency_key: string | null;
  correlation_id: string | null;
  timeout_seconds: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  metadata: string | null;
}

/** The task columns, in the order that toTaskFromValues reads them. */
export const TASK_FIELDS = [
  'id', 'queue', 'type', 'priority', 'payload', 'compatibility', 'region', 'format', 'status', 'attempts',
  'max_attempts', 'run_after', 'lease_until', 'locked_by', 'progress', 'progress_message', 'result', 'error_message',
  'cancel_requested', 'idempotency_key', 'correlation_id', 'timeout_seconds', 'created_by', 'created_at', 'updated_at',
  'started_at', 'finished_at', 'metadata',
] as const satisfies readonly (keyof TaskRow)[];

export const TASK_COLUMNS = TASK_FIELDS.join(', ');

/**
 * A task from a row read as an array in TASK_COLUMNS order. The hot paths read rows this
 * way: the driver then builds no object with 27 named keys per row, which costs more than
 * the statement that read it.
 */
export function toTaskFromValues(v: readonly unknown[]): Task {
  const region = v[6] as string | null;
  const format = v[7] as string | null;
  const result = v[16] as string | null;
  const metadata = v[27] as string | null;
  return {
    id: v[0] as number,
    queue: v[1] as string,
    type: v[2] as string,
    priority: v[3] as number,
    payload: JSON.parse(v[4] as string),
    compatibility: JSON.parse(v[5] as string),
    region: region === null ? null : String(region),
    format: format === null ? null : String(format),
    status: v[8] as TaskStatus,
    attempts: v[9] as number,
    maxAttempts: v[10] as number,
    runAfter: v[11] as number,
    leaseUntil: v[12] as number | null,
    lockedBy: v[13] as string | null,
    progress: v[14] as number | null,
    progressMessage: v[15] as string | null,
    result: result === null ? null : JSON.parse(result),
    errorMessage: v[17] as string | null,
    cancelRequested: v[18] !== 0 && v[18] !== false,
    idempotencyKey: v[19] as string | null,
    correlationId: v[20] as string | null,
    timeoutSeconds: v[21] as number | null,
    createdBy: v[22] as string | null,
    createdAt: v[23] as number,
    updatedAt: v[24] as number,
    startedAt: v[25] as number | null,
    finishedAt: v[26] as number | null,
    metadata: metadata === null ? null : JSON.parse(metadata),
  };
}

/** A task from a row read as an object (the less frequent paths). */
export function toTask(r: TaskRow): Task {
  return toTaskFromValues(TASK_FIELDS.map((f) => r[f]));
}

export const WORKER_COLUMNS = 'id, capabilities, status, started_at, heartbeat_at';

export interface WorkerRow {
  id: string;
  capabilities: string;
  status: WorkerStatus;
  started_at: number;
  heartbeat_at: number;
}

export function toWorker(r: WorkerRow): Worker {
  return { id: r.id, capabilities: JSON.parse(r.capabilities), status: r.status, startedAt: r.started_at, heartbeatAt: r.heartbeat_at };
}

export const LOG_COLUMNS = 'id, task_id, at, level, message, details';

export interface LogRow {
  id: number;
  task_id: number;
  at: number;
  level: LogLevel;
  message: string;
  details: string | null;
}

export function toLog(r: LogRow): TaskLog {
  return { id: r.id, taskId: r.task_id, at: r.at, level: r.level, message: r.message, details: r.details === null ? null : JSON.parse(r.details) };
}

/** An outbox row; `id` is its cursor (SQLite: the rowid; PostgreSQL: pos, read AS id). */
export interface EventRow {
  id: number;
  kind: StoredEvent['kind'];
  at: number;
  task_id: number | null;
  status: TaskStatus | null;
  queue: string | null;
  type: string | null;
  worker_id: string | null;
  log_id: number | null;
}

export function toEvent(r: EventRow): StoredEvent {
  return { id: r.id, kind: r.kind, at: r.at, taskId: r.task_id, status: r.status, queue: r.queue, type: r.type, workerId: r.worker_id, logId: r.log_id };
}

export interface ScheduleRow {
  name: string;
  cron: string | null;
  interval_seconds: number | null;
  timezone: string;
  enabled: number | boolean;
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

export function toSchedule(r: ScheduleRow): StoredSchedule {
  return {
    name: r.name,
    cron: r.cron,
    intervalSeconds: r.interval_seconds,
    timezone: r.timezone,
    enabled: r.enabled !== 0 && r.enabled !== false,
    template: {
      type: r.task_type,
      payload: r.task_payload,
      queue: r.task_queue,
      priority: r.task_priority,
      compatibility: r.task_compatibility,
      maxAttempts: r.task_max_attempts,
      timeoutSeconds: r.task_timeout_seconds,
    },
    anchorAt: r.anchor_at,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastTaskId: r.last_task_id,
  };
}

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  worker_id: string | null;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export function toTokenInfo(r: TokenRow): TokenInfo {
  return { id: r.id, name: r.name, role: r.role, workerId: r.worker_id, createdAt: r.created_at, revokedAt: r.revoked_at };
}

/** Values grouped by key, in the order of `keys`, [] where a key has none (the batch reads of the dataloaders). */
export function groupBy<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>();
  for (const r of rows) {
    const k = keyOf(r);
    let list = map.get(k);
    if (!list) map.set(k, (list = []));
    list.push(r);
  }
  return keys.map((k) => map.get(k) ?? []);
}

/** A queue's limits and pauses from one statement's rows: a row without a limit is a pause. */
export function controlsOf(rows: readonly { type: string; maxRunning: number | null }[]): { limits: LimitRule[]; paused: string[] } {
  const limits: LimitRule[] = [];
  const paused: string[] = [];
  for (const r of rows) {
    if (r.maxRunning === null) paused.push(r.type);
    else limits.push({ type: r.type, maxRunning: r.maxRunning });
  }
  return { limits, paused };
}

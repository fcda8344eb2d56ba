/** Column lists and row mappers for the SQLite adapter. */
import type { LogLevel, StoredEvent, Task, TaskLog, TaskStatus, Worker, WorkerStatus } from '../types.js';

/** The task columns, in the order that TASK_COLUMNS lists them and toTaskFromValues reads them. */
const TASK_FIELDS = [
  'id', 'queue', 'type', 'priority', 'payload', 'compatibility', 'region', 'format', 'status', 'attempts',
  'max_attempts', 'run_after', 'lease_until', 'locked_by', 'progress', 'progress_message', 'result', 'error_message',
  'cancel_requested', 'idempotency_key', 'correlation_id', 'timeout_seconds', 'created_by', 'created_at', 'updated_at',
  'started_at', 'finished_at',
] as const satisfies readonly (keyof TaskRow)[];

export const TASK_COLUMNS = TASK_FIELDS.join(', ');

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
  cancel_requested: number;
  idempotency_key: string | null;
  correlation_id: string | null;
  timeout_seconds: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * A task from a row read in raw mode (an array in TASK_COLUMNS order). The hot paths read
 * rows this way: better-sqlite3 then builds no object with 27 named keys per row, which
 * costs more than the statement that read it.
 */
export function toTaskFromValues(v: readonly unknown[]): Task {
  const region = v[6] as string | null;
  const format = v[7] as string | null;
  const result = v[16] as string | null;
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
    cancelRequested: v[18] !== 0,
    idempotencyKey: v[19] as string | null,
    correlationId: v[20] as string | null,
    timeoutSeconds: v[21] as number | null,
    createdBy: v[22] as string | null,
    createdAt: v[23] as number,
    updatedAt: v[24] as number,
    startedAt: v[25] as number | null,
    finishedAt: v[26] as number | null,
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
  return {
    id: r.id,
    capabilities: JSON.parse(r.capabilities),
    status: r.status,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
  };
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
  return {
    id: r.id,
    taskId: r.task_id,
    at: r.at,
    level: r.level,
    message: r.message,
    details: r.details === null ? null : JSON.parse(r.details),
  };
}

export const EVENT_COLUMNS = 'id, kind, at, task_id, status, queue, type, worker_id, log_id';

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
  return {
    id: r.id,
    kind: r.kind,
    at: r.at,
    taskId: r.task_id,
    status: r.status,
    queue: r.queue,
    type: r.type,
    workerId: r.worker_id,
    logId: r.log_id,
  };
}

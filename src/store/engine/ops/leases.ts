/**
 * Everything a worker does under a lease: heartbeats, progress, logs, and the outcomes
 * (complete, fail). Every write names the lease it acts under (`...IfLeased`); when it
 * changes nothing, the lease is read to say why (rules/leases.ts), never to decide.
 */
import { TaskwireError, leaseLost, notFound } from '../../errors.js';
import type { HeartbeatResult, JsonObject, LeaseState, LogLevel, Task, TaskLog } from '../../types.js';
import { toJson } from '../../validate.js';
import { LIMITS } from '../defaults.js';
import type { LeaseRef } from '../../driver.js';
import type { EngineEnv } from '../env.js';
import { decideAttemptEnd, type AttemptCause } from '../rules/attempts.js';
import { leaseMiss } from '../rules/leases.js';
import { nextMetadata, type MetadataMode } from '../rules/metadata.js';
import { call, type Unit } from '../unit.js';
import { cancelDependents, unblockDependents } from './dependencies.js';
import { addLog, taskEvent } from './outbox.js';
import { touchWorker } from './workers.js';

/** The error for a lease-guarded write that matched no row. */
function* leaseMissError(ref: LeaseRef): Unit<TaskwireError> {
  return leaseMiss(ref.taskId, yield* call('leaseHolder', ref.taskId), ref.leaseToken, ref.holder) ?? leaseLost(ref.taskId);
}

/** Throws unless `ref` is the lease the task is RUNNING under now. */
function* requireLease(ref: LeaseRef): Unit<void> {
  const miss = leaseMiss(ref.taskId, yield* call('leaseHolder', ref.taskId), ref.leaseToken, ref.holder);
  if (miss) throw miss;
}

export interface HeartbeatRequest {
  workerId: string;
  capabilities: string | null;
  extendSeconds: number;
  leases: readonly { taskId: number; leaseToken: string }[];
}

export function* heartbeat(req: HeartbeatRequest, env: EngineEnv): Unit<HeartbeatResult> {
  const now = env.now();
  const worker = yield* touchWorker(req.workerId, req.capabilities, now);
  const until = now + req.extendSeconds * 1000;
  const leases: LeaseState[] = [];
  // Guard: only the caller's own current leases are extended, and never shortened.
  const extended = req.leases.length === 0 ? [] : yield* call('extendLeaseIfHeld', req.leases, req.workerId, until);
  for (let i = 0; i < req.leases.length; i++) {
    const ref = req.leases[i]!;
    const held = extended[i];
    if (held) leases.push({ taskId: ref.taskId, leaseUntil: held.leaseUntil, cancelRequested: held.cancelRequested, lost: false });
    else leases.push({ taskId: ref.taskId, leaseUntil: null, cancelRequested: (yield* call('cancelRequestedOf', ref.taskId)) ?? false, lost: true });
  }
  return { worker, leases };
}

export function* reportProgress(ref: LeaseRef, progress: number, message: string | null, env: EngineEnv): Unit<Task> {
  const now = env.now();
  const task = yield* call('setProgressIfLeased', ref, progress, message, now);
  if (!task) throw yield* leaseMissError(ref);
  yield* taskEvent('PROGRESS', task, now);
  return task;
}

/**
 * The lease holder sets (SET) or merges into (MERGE, JSON Merge Patch) its task's
 * metadata; a METADATA event carries the task to subscribers. Merged under the task's
 * lock, so two merges never lose each other's keys; the result is bounded in size.
 */
export function* updateMetadata(ref: LeaseRef, patch: JsonObject, mode: MetadataMode, env: EngineEnv): Unit<Task> {
  const now = env.now();
  const current = yield* call('lockTaskIfLeased', ref);
  if (!current) throw yield* leaseMissError(ref);
  const text = toJson(nextMetadata(current.metadata, patch, mode), 'metadata', LIMITS.metadataBytes);
  // Under the lock just taken the lease cannot have changed: a miss here is a driver fault.
  const task = yield* call('setMetadataIfLeased', ref, text, now);
  if (!task) throw yield* leaseMissError(ref);
  yield* taskEvent('METADATA', task, now);
  return task;
}

/**
 * Completes every lease of a batch, or none: the first that is not current fails the
 * whole batch with its diagnosis (the transaction is rolled back).
 */
export function* complete(refs: readonly LeaseRef[], results: readonly (string | null)[], now: number): Unit<Task[]> {
  const done = yield* call('finishIfLeased', refs, results, now);
  for (let i = 0; i < refs.length; i++) if (!done[i]) throw yield* leaseMissError(refs[i]!);
  const tasks = done as Task[];
  for (const task of tasks) yield* taskEvent('SUCCEEDED', task, now);
  yield* unblockDependents(tasks.map((t) => t.id), now);
  return tasks;
}

/**
 * Gives back leases whose tasks never started: QUEUED at once, the attempt uncounted,
 * a RELEASED event each. A task whose cancel was asked meanwhile ends CANCELLED, as it
 * would at the end of any attempt; a lease no longer current is skipped (not ours).
 */
export function* release(refs: readonly LeaseRef[], env: EngineEnv): Unit<Task[]> {
  const now = env.now();
  const released: Task[] = [];
  for (const ref of refs) {
    const t = yield* call('releaseIfLeased', ref, now);
    if (t) {
      yield* taskEvent('RELEASED', t, now);
      released.push(t);
      continue;
    }
    // Not released: the lease is gone, or a cancel was asked (the guard refuses both).
    const current = yield* call('lockTaskIfLeased', ref);
    if (!current?.cancelRequested) continue;
    const failure = { error: 'released before it started', retryable: true, retryAfterSeconds: null, cause: null };
    const ended = yield* endAttempt(current, failure, now, env);
    if (ended) released.push(ended);
  }
  return released;
}

export interface Failure {
  error: string;
  retryable: boolean;
  retryAfterSeconds: number | null;
}

/**
 * Relies on: lockTaskIfLeased holding the row while the caller's lease is current, and
 * endAttemptIfCurrent naming the attempt that was read (still RUNNING, same attempt
 * number), so that a decision made on a stale read changes nothing: LEASE_LOST.
 */
export function* fail(ref: LeaseRef, failure: Failure, env: EngineEnv): Unit<Task> {
  const now = env.now();
  const current = yield* call('lockTaskIfLeased', ref);
  if (!current) throw yield* leaseMissError(ref);
  const ended = yield* endAttempt(current, { ...failure, cause: null }, now, env);
  if (!ended) throw leaseLost(ref.taskId);
  return ended;
}

/**
 * Ends a RUNNING attempt that did not succeed, as rules/attempts.ts decides: CANCELLED,
 * QUEUED again (with its delay) or FAILED, with the events it names, in order; a
 * CANCELLED or FAILED task cancels its BLOCKED dependents. Null when the attempt had
 * already ended (another sweeper, or the worker, was first).
 */
export function* endAttempt(task: Task, failure: Failure & { cause: AttemptCause | null }, now: number, env: EngineEnv): Unit<Task | null> {
  const end = decideAttemptEnd(task, failure, { baseMs: env.backoffBaseMs, capMs: env.backoffCapMs, random: env.random });
  const runAfter = end.status === 'QUEUED' ? now + end.delayMs! : null;
  const t = yield* call('endAttemptIfCurrent', task.id, task.attempts, { status: end.status, runAfter, errorMessage: end.errorMessage }, now);
  if (!t) return null;
  for (const kind of end.events) yield* taskEvent(kind, t, now);
  if (end.cascadeReason) yield* cancelDependents(t.id, end.cascadeReason, now);
  return t;
}

export interface LogRequest {
  taskId: number;
  level: LogLevel;
  message: string;
  details: string | null;
  leaseToken: string | null;
  holder: string | null;
}

/** A worker logs only under its lease; other callers (admins, producers) on any task. */
export function* appendLog(req: LogRequest, env: EngineEnv): Unit<TaskLog> {
  const now = env.now();
  if (req.leaseToken !== null) yield* requireLease({ taskId: req.taskId, leaseToken: req.leaseToken, holder: req.holder });
  else if (req.holder !== null) throw new TaskwireError('FORBIDDEN', 'a worker may log only on tasks it holds: give the leaseToken');
  else if (!(yield* call('task', req.taskId))) throw notFound('task', req.taskId);
  return yield* addLog(req.taskId, now, req.level, req.message, req.details);
}

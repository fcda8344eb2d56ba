/** An operator's or producer's cancel and edit, and an operator's retry. */
import { TaskwireError, invalidState, notFound } from '../../errors.js';
import type { Task } from '../../types.js';
import type { EngineEnv } from '../env.js';
import { cancelledReason } from '../rules/dependencies.js';
import { canTake } from '../transitions.js';
import { call, type Unit } from '../unit.js';
import type { StoredEdit } from '../../driver.js';
import { dependencyState } from './enqueue.js';
import { cancelDependents } from './dependencies.js';
import { taskEvent } from './outbox.js';

/**
 * A guarded update matched no row: the task left the status it was read in before the
 * write (possible only where several writers share the database). The caller tries again.
 */
function changedMeanwhile(taskId: number): never {
  throw new TaskwireError('CONFLICT', `task ${taskId} changed while this change was being made; try again`, { taskId });
}

/** The task, locked; NOT_FOUND, or FORBIDDEN when `onlyCreatedBy` (a producer) did not enqueue it. */
function* lockOwnTask(taskId: number, onlyCreatedBy: string | null): Unit<Task> {
  const task = yield* call('lockTask', taskId);
  if (!task) throw notFound('task', taskId);
  if (onlyCreatedBy && task.createdBy !== onlyCreatedBy) {
    throw new TaskwireError('FORBIDDEN', `task ${taskId} was enqueued by someone else`, { taskId });
  }
  return task;
}

/**
 * BLOCKED and QUEUED tasks are cancelled at once (with their dependents); a RUNNING one
 * gets a cancel request its worker sees at the next heartbeat. Relies on: lockTask, and
 * the status guards of the writes (a change made meanwhile gives CONFLICT, not a lost update).
 */
export function* cancel(taskId: number, why: string, onlyCreatedBy: string | null, env: EngineEnv): Unit<Task> {
  const now = env.now();
  const task = yield* lockOwnTask(taskId, onlyCreatedBy);
  if (canTake('cancelWhileWaiting', task.status)) {
    const t = (yield* call('cancelIfWaiting', taskId, why, now)) ?? changedMeanwhile(taskId);
    yield* taskEvent('CANCELLED', t, now);
    yield* cancelDependents(taskId, cancelledReason(taskId), now);
    return t;
  }
  if (canTake('requestCancel', task.status)) {
    if (task.cancelRequested) return task;
    const t = (yield* call('requestCancelIfRunning', taskId, why, now)) ?? changedMeanwhile(taskId);
    yield* taskEvent('CANCEL_REQUESTED', t, now);
    return t;
  }
  throw invalidState(`task ${taskId} is ${task.status} and can no longer be cancelled`, { status: task.status });
}

/** A FAILED or CANCELLED task starts over: QUEUED, or BLOCKED while its dependencies run; with `edit`, with a new payload. */
export function* retry(taskId: number, env: EngineEnv, edit: StoredEdit | null = null): Unit<Task> {
  const now = env.now();
  const task = yield* call('lockTask', taskId);
  if (!task) throw notFound('task', taskId);
  if (!canTake('retry', task.status)) {
    throw invalidState(`only FAILED or CANCELLED tasks can be retried; task ${taskId} is ${task.status}`, { status: task.status });
  }
  const { status, reason } = yield* dependencyState(yield* call('dependencyIdsOf', taskId));
  if (status === 'CANCELLED') throw invalidState(`task ${taskId} cannot run: ${reason}; retry that task first`);
  let t = (yield* call('resetIfRetryable', taskId, status, now)) ?? changedMeanwhile(taskId);
  // With a new payload (a fix for what made it fail), in the same transaction.
  if (edit) t = (yield* call('updateIfEditable', taskId, edit, now)) ?? changedMeanwhile(taskId);
  yield* taskEvent('REQUEUED', t, now);
  return t;
}

/**
 * A task no worker holds (QUEUED, BLOCKED, FAILED) gets new field values; an UPDATED event
 * says so. A RUNNING or finished-for-good task gives INVALID_STATE; a producer edits only
 * what it enqueued. Relies on: lockTask and the status guard of the write, as cancel.
 */
export function* update(taskId: number, edit: StoredEdit, onlyCreatedBy: string | null, env: EngineEnv): Unit<Task> {
  const now = env.now();
  const task = yield* lockOwnTask(taskId, onlyCreatedBy);
  if (!canTake('edit', task.status)) {
    throw invalidState(`only QUEUED, BLOCKED or FAILED tasks can be edited; task ${taskId} is ${task.status}`, { status: task.status });
  }
  const t = (yield* call('updateIfEditable', taskId, edit, now)) ?? changedMeanwhile(taskId);
  yield* taskEvent('UPDATED', t, now);
  return t;
}

/**
 * The status machine of a task, as a table: which step moves a task from which statuses
 * to which, and which event each step records. The engine asks it before each change;
 * each driver writes the same `from` list into the guard of its UPDATE (`...IfQueued`,
 * `...IfLeased`), so a change made on a stale read matches no row instead of
 * overwriting a newer state.
 *
 *   BLOCKED --unblock--> QUEUED --claim--> RUNNING --complete--> SUCCEEDED
 *      |                  ^  |                |--fail (retry)--> QUEUED
 *      |                  |  |                |--fail (last)---> FAILED
 *      +----cancel--------+--+--> CANCELLED <-+--cancel (requested, at the attempt's end)
 *   FAILED, CANCELLED --retry--> QUEUED (or BLOCKED while a dependency is pending)
 *   RUNNING --release--> QUEUED (never started: the attempt does not count)
 */
import type { TaskEventKind, TaskStatus } from '../types.js';
import { FINISHED_STATUSES, TASK_STATUSES } from '../types.js';

export { FINISHED_STATUSES, TASK_STATUSES };

/** Statuses a task rests in without a worker: kept in one partial index (SQLite migration 004). */
export const SETTLED_STATUSES: readonly TaskStatus[] = ['BLOCKED', ...FINISHED_STATUSES];

export type Step =
  | 'unblock'
  | 'claim'
  | 'complete'
  | 'retryLater'
  | 'requeueAfterLeaseExpiry'
  | 'fail'
  | 'cancelWhileWaiting'
  | 'cancelAtAttemptEnd'
  | 'requestCancel'
  | 'cancelAsDependent'
  | 'retry'
  | 'release'
  | 'edit';

export interface Transition {
  from: readonly TaskStatus[];
  /** null: the status stays (a flag changes). */
  to: TaskStatus | null;
  /** The event the step records (an attempt's cause, TIMED_OUT or LEASE_EXPIRED, comes first). */
  event: TaskEventKind | null;
}

export const TRANSITIONS: Readonly<Record<Step, Transition>> = {
  unblock: { from: ['BLOCKED'], to: 'QUEUED', event: 'UNBLOCKED' },
  claim: { from: ['QUEUED'], to: 'RUNNING', event: 'CLAIMED' },
  complete: { from: ['RUNNING'], to: 'SUCCEEDED', event: 'SUCCEEDED' },
  retryLater: { from: ['RUNNING'], to: 'QUEUED', event: 'RETRY_SCHEDULED' },
  // The worker vanished; the task did not fail: no RETRY_SCHEDULED, it runs again at once.
  requeueAfterLeaseExpiry: { from: ['RUNNING'], to: 'QUEUED', event: null },
  fail: { from: ['RUNNING'], to: 'FAILED', event: 'FAILED' },
  cancelWhileWaiting: { from: ['QUEUED', 'BLOCKED'], to: 'CANCELLED', event: 'CANCELLED' },
  cancelAtAttemptEnd: { from: ['RUNNING'], to: 'CANCELLED', event: 'CANCELLED' },
  requestCancel: { from: ['RUNNING'], to: null, event: 'CANCEL_REQUESTED' },
  cancelAsDependent: { from: ['BLOCKED'], to: 'CANCELLED', event: 'CANCELLED' },
  retry: { from: ['FAILED', 'CANCELLED'], to: 'QUEUED', event: 'REQUEUED' },
  // A prefetched task its worker never started: back in line, the attempt not counted.
  release: { from: ['RUNNING'], to: 'QUEUED', event: 'RELEASED' },
  // An operator's edit of a task no worker holds: its fields change, not its status.
  edit: { from: ['QUEUED', 'BLOCKED', 'FAILED'], to: null, event: 'UPDATED' },
};

export function canTake(step: Step, status: TaskStatus): boolean {
  return TRANSITIONS[step].from.includes(status);
}

export function isFinished(status: TaskStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}


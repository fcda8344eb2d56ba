/**
 * How an attempt that did not succeed ends. Decided here, from the task's counters and
 * the reason the attempt ended; the driver only writes the decision (Oban's engines work
 * the same way: backoff and the next state are computed outside them).
 */
import type { TaskEventKind, TaskStatus } from '../../types.js';
import { TRANSITIONS, type Step } from '../transitions.js';
import { backoffDelayMs } from './backoff.js';

/** Why the attempt ended, when the worker did not say: the sweep found it late or lapsed. */
export type AttemptCause = 'TIMED_OUT' | 'LEASE_EXPIRED';

export interface AttemptState {
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
}

export interface AttemptFailure {
  error: string;
  /** false: never retried (the worker's NonRetryableError). */
  retryable: boolean;
  /** The worker's own delay, overriding the backoff. */
  retryAfterSeconds: number | null;
  cause: AttemptCause | null;
}

export interface Backoff {
  baseMs: number;
  capMs: number;
  random: () => number;
}

export interface AttemptEnd {
  step: Extract<Step, 'cancelAtAttemptEnd' | 'retryLater' | 'requeueAfterLeaseExpiry' | 'fail'>;
  status: Extract<TaskStatus, 'CANCELLED' | 'QUEUED' | 'FAILED'>;
  /** The task's error message as stored. */
  errorMessage: string;
  /** QUEUED only: how long until it may be claimed again. */
  delayMs: number | null;
  /** The events to record, in order. */
  events: TaskEventKind[];
  /** CANCELLED or FAILED: the reason its BLOCKED dependents are cancelled with. */
  cascadeReason: string | null;
}

/**
 * CANCELLED if a cancel was requested while it ran; QUEUED again while attempts remain and
 * the error is retryable (at once after a lapsed lease: the worker vanished, the task did
 * not fail; else after the worker's delay or the backoff); otherwise FAILED.
 */
export function decideAttemptEnd(task: { id: number } & AttemptState, failure: AttemptFailure, backoff: Backoff): AttemptEnd {
  const causeEvents: TaskEventKind[] = failure.cause ? [failure.cause] : [];
  const end = (step: AttemptEnd['step'], errorMessage: string, delayMs: number | null, cascadeReason: string | null): AttemptEnd => {
    const t = TRANSITIONS[step];
    return {
      step,
      status: t.to as AttemptEnd['status'],
      errorMessage,
      delayMs,
      events: t.event ? [...causeEvents, t.event] : causeEvents,
      cascadeReason,
    };
  };
  if (task.cancelRequested) return end('cancelAtAttemptEnd', `cancelled: ${failure.error}`, null, `dependency ${task.id} was cancelled`);
  if (failure.retryable && task.attempts < task.maxAttempts) {
    if (failure.cause === 'LEASE_EXPIRED') return end('requeueAfterLeaseExpiry', failure.error, 0, null);
    const delayMs =
      failure.retryAfterSeconds !== null
        ? failure.retryAfterSeconds * 1000
        : backoffDelayMs(task.attempts, backoff.baseMs, backoff.capMs, backoff.random);
    return end('retryLater', failure.error, delayMs, null);
  }
  return end('fail', failure.error, null, `dependency ${task.id} FAILED`);
}

/** The sweep: attempts past their timeout or their lease, and workers gone silent. */
import type { SweepResult } from '../../types.js';
import type { EngineEnv } from '../env.js';
import { call, type Unit } from '../unit.js';
import { endAttempt } from './leases.js';

/**
 * Relies on: the lock operations skipping rows another sweeper holds, and endAttempt's
 * guard (the same attempt, still RUNNING), so that two sweepers never end one attempt
 * twice; each counts only the attempts it ended.
 */
export function* sweep(env: EngineEnv): Unit<SweepResult> {
  const now = env.now();
  let expired = 0;
  let timedOut = 0;
  // Timeouts first: a task past its deadline fails its attempt even while its worker
  // keeps renewing the lease.
  for (const task of yield* call('lockLateAttempts', now)) {
    const failure = { error: `timed out after ${task.timeoutSeconds}s`, retryable: true, retryAfterSeconds: null, cause: 'TIMED_OUT' as const };
    if (yield* endAttempt(task, failure, now, env)) timedOut++;
  }
  for (const task of yield* call('lockLapsedLeases', now)) {
    const error = `lease expired: worker ${task.lockedBy ?? '?'} stopped renewing it`;
    if (yield* endAttempt(task, { error, retryable: true, retryAfterSeconds: null, cause: 'LEASE_EXPIRED' }, now, env)) expired++;
  }
  const stale = yield* call('markStaleWorkers', now - env.staleWorkerAfterMs);
  for (const workerId of stale) yield* call('appendEvent', { kind: 'WORKER_UPDATED', at: now, workerId });
  return { expired, timedOut, staleWorkers: stale.length };
}

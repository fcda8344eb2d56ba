/** Retention: finished tasks past their keep time, and the outbox. */
import { LIMITS } from '../defaults.js';
import type { EngineEnv } from '../env.js';
import { call, type Unit } from '../unit.js';

/** Rows per cleanup transaction: short transactions, so claims are not held up for long. */
export const CLEANUP_BATCH = 2000;
/** Outbox rows per trim statement. */
const TRIM_BATCH = 100_000;

/** One batch of finished tasks (with their logs and edges) finished before `cutoff`; null when none is left. */
export function* cleanupBatch(cutoff: number): Unit<{ tasks: number; logs: number } | null> {
  const ids = yield* call('finishedTaskIdsBefore', cutoff, CLEANUP_BATCH);
  if (ids.length === 0) return null;
  return yield* call('deleteTasks', ids);
}

/**
 * Outbox rows older than `olderThanMs`, and beyond the newest `keepAtMost`. Never the
 * last minute: another process tailing the outbox may not have read it yet.
 */
export function* trimEvents(olderThanMs: number, keepAtMost: number, env: EngineEnv): Unit<number> {
  const now = env.now();
  let removed = yield* call('deleteEventsBefore', now - Math.max(olderThanMs, LIMITS.eventGraceMs), TRIM_BATCH);
  if (keepAtMost < Number.MAX_SAFE_INTEGER) removed += yield* call('deleteEventsBeyond', keepAtMost, now - LIMITS.eventGraceMs);
  return removed;
}

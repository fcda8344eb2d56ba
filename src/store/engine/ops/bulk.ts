/**
 * Actions on every task a filter matches (issue 17's bulk actions), bounded per call and
 * resumable: a call acts on at most `limit` tasks, in id order, and says whether more
 * match; calling again goes on. Each task goes through the same unit a single action
 * uses, inside one transaction, so the rules (and events) are the same; a task that
 * changed since it was read (no longer in an acted-on status) is skipped, not an error.
 */
import { TaskwireError } from '../../errors.js';
import type { Task } from '../../types.js';
import type { EngineEnv } from '../env.js';
import { isFinished } from '../transitions.js';
import { call, type Unit } from '../unit.js';
import { cancel, retry } from './cancel-retry.js';

export type BulkAction = 'cancel' | 'retry' | 'delete';

/** The statuses each action acts on; a filter's own statuses narrow them. */
export const BULK_STATUSES = {
  cancel: ['QUEUED', 'BLOCKED', 'RUNNING'],
  retry: ['FAILED', 'CANCELLED'],
  delete: ['SUCCEEDED', 'FAILED', 'CANCELLED'],
} as const;

/** Codes of a single action that mean "this task is no longer one to act on". */
const SKIPPED = new Set(['INVALID_STATE', 'CONFLICT', 'NOT_FOUND']);

export function* bulk(action: BulkAction, ids: readonly number[], why: string, env: EngineEnv): Unit<{ changed: number; skipped: number }> {
  let changed = 0;
  let skipped = 0;
  if (action === 'delete') {
    // Locked and read again: a task retried since the read is not deleted.
    const finished: number[] = [];
    for (const id of ids) {
      const t = yield* call('lockTask', id);
      if (t && isFinished(t.status)) finished.push(id);
    }
    if (finished.length > 0) yield* call('deleteTasks', finished);
    return { changed: finished.length, skipped: ids.length - finished.length };
  }
  for (const id of ids) {
    try {
      const before: Task | null = action === 'cancel' ? yield* call('lockTask', id) : null;
      if (before?.cancelRequested) {
        skipped++; // asked already: nothing more to do
        continue;
      }
      yield* action === 'cancel' ? cancel(id, why, null, env) : retry(id, env);
      changed++;
    } catch (e) {
      // Each of these is thrown before its unit writes anything.
      if (!(e instanceof TaskwireError) || !SKIPPED.has(e.code)) throw e;
      skipped++;
    }
  }
  return { changed, skipped };
}

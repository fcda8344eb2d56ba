/** What finishing a task does to the tasks that wait on it. */
import { TRANSITIONS } from '../transitions.js';
import { cascadedReason } from '../rules/dependencies.js';
import { call, type Unit } from '../unit.js';
import { addLog, taskEvent } from './outbox.js';

/**
 * After these tasks SUCCEEDED: each BLOCKED dependent whose dependencies all succeeded is QUEUED.
 * Relies on: the dependents being locked (FOR UPDATE) before their dependencies are
 * checked. Two dependencies finishing at once then check one after the other, and the
 * second sees the first SUCCEEDED (without the lock, each would see the other unfinished
 * and the task would stay BLOCKED: write skew). SQLite's single writer does the same.
 */
export function* unblockDependents(taskIds: readonly number[], now: number): Unit<void> {
  if (taskIds.length === 0) return;
  const blocked = yield* call('lockBlockedDependents', taskIds);
  if (blocked.length === 0) return;
  for (const id of yield* call('readyOf', blocked)) {
    const t = yield* call('queueIfBlocked', id, now);
    if (t) yield* taskEvent('UNBLOCKED', t, now);
  }
}

/**
 * Cancels every BLOCKED task that (transitively) depends on `rootId`, each with the
 * reason that names the dependency it waited on. Guard: each is cancelled only while
 * still BLOCKED, so a dependent that started meanwhile is left to run.
 */
export function* cancelDependents(rootId: number, reason: string, now: number): Unit<void> {
  const stack: { id: number; reason: string }[] = [{ id: rootId, reason }];
  while (stack.length > 0) {
    const { id: parent, reason: why } = stack.pop()!;
    for (const id of yield* call('lockBlockedDependents', [parent])) {
      const t = yield* call('cancelIfBlocked', id, why, now);
      if (!t) continue;
      yield* addLog(id, now, 'WARN', `cancelled: ${why}`);
      yield* taskEvent(TRANSITIONS.cancelAsDependent.event!, t, now);
      stack.push({ id, reason: cascadedReason(id, why) });
    }
  }
}

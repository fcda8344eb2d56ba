/**
 * Dependencies: where a task with dependencies starts, and the reasons written on tasks
 * cancelled because something they depend on can no longer succeed.
 */
import { validation } from '../../errors.js';
import type { TaskStatus } from '../../types.js';

export interface DependencyState {
  status: Extract<TaskStatus, 'QUEUED' | 'BLOCKED' | 'CANCELLED'>;
  /** CANCELLED only: which dependency, and why. */
  reason: string | null;
}

/**
 * QUEUED when every dependency has SUCCEEDED, BLOCKED while any is still pending, and
 * CANCELLED (with the reason) when one has FAILED or been CANCELLED, since it can never
 * run. `found` holds the dependencies that exist; one missing is a VALIDATION error.
 */
export function initialState(dependsOn: readonly number[], found: readonly { id: number; status: TaskStatus }[]): DependencyState {
  if (dependsOn.length === 0) return { status: 'QUEUED', reason: null };
  if (found.length !== dependsOn.length) {
    const known = new Set(found.map((r) => r.id));
    const missing = dependsOn.filter((id) => !known.has(id));
    throw validation(`dependsOn names tasks that do not exist: ${missing.join(', ')}`, 'dependsOn');
  }
  const dead = found.find((r) => r.status === 'FAILED' || r.status === 'CANCELLED');
  if (dead) return { status: 'CANCELLED', reason: `dependency ${dead.id} is ${dead.status}` };
  const pending = found.some((r) => r.status !== 'SUCCEEDED');
  return { status: pending ? 'BLOCKED' : 'QUEUED', reason: null };
}

/** The reason a task cancelled by hand gives its dependents. */
export function cancelledReason(taskId: number): string {
  return `dependency ${taskId} was cancelled`;
}

/** The reason passed one level further down a cascade, keeping the root's. */
export function cascadedReason(taskId: number, why: string): string {
  return `dependency ${taskId} was cancelled (${why})`;
}

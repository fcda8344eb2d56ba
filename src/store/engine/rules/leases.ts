/**
 * Fencing: why a call that names a lease found no RUNNING task under it. A guarded write
 * (`...IfLeased`) that changed no row reads the task's lease afterwards and asks this
 * which error the caller gets; the write itself never trusts that read.
 */
import { TaskwireError, leaseLost, notFound } from '../../errors.js';
import type { TaskStatus } from '../../types.js';

export interface LeaseView {
  status: TaskStatus;
  leaseToken: string | null;
  lockedBy: string | null;
}

/**
 * NOT_FOUND (no such task), LEASE_LOST (not RUNNING under this token: expired, finished,
 * or another worker's now), FORBIDDEN (the token is right but the caller is not the
 * worker holding it), or null when the lease is in fact held.
 */
export function leaseMiss(taskId: number, lease: LeaseView | null | undefined, leaseToken: string, holder?: string | null): TaskwireError | null {
  if (!lease) return notFound('task', taskId);
  if (lease.status !== 'RUNNING' || lease.leaseToken !== leaseToken) return leaseLost(taskId);
  if (holder && lease.lockedBy !== holder) return new TaskwireError('FORBIDDEN', `task ${taskId} is leased to another worker`, { taskId });
  return null;
}

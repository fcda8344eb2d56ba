/** Worker registration and heartbeats of the worker row itself. */
import type { Worker } from '../../types.js';
import { call, type Unit } from '../unit.js';

/** Whether a touch changes what others know of the worker (and so is announced). */
function announces(before: { status: string; capabilities: string } | null, capabilities: string | null): boolean {
  return !before || before.status !== 'ACTIVE' || (capabilities !== null && capabilities !== before.capabilities);
}

/**
 * Registers or refreshes a worker; a WORKER_UPDATED event when it is new, comes back
 * from STALE or STOPPED, or changes its capabilities.
 * Relies on: lockWorker serializing two registrations of one worker id, so that the
 * second reads the state the first wrote (each would otherwise see no row, and both
 * announce a new worker). SQLite's single writer does the same. The lock is taken only
 * when the first read says the touch would be announced, and the state is read again
 * under it: an ordinary heartbeat of an ACTIVE worker takes no lock.
 */
export function* touchWorker(workerId: string, capabilities: string | null, now: number): Unit<Worker> {
  let before = yield* call('workerState', workerId);
  if (announces(before, capabilities)) {
    yield* call('lockWorker', workerId);
    before = yield* call('workerState', workerId);
  }
  const worker = yield* call('upsertWorker', workerId, capabilities, now);
  if (announces(before, capabilities)) yield* call('appendEvent', { kind: 'WORKER_UPDATED', at: now, workerId });
  return worker;
}

/** A claim's worker upkeep: one UPDATE in the common case, the full upsert otherwise. */
export function* refreshOrTouchWorker(workerId: string, capabilities: string | null, now: number): Unit<void> {
  if (!(yield* call('refreshWorkerIfActive', workerId, capabilities, now))) yield* touchWorker(workerId, capabilities, now);
}

/** Worker registration and heartbeats of the worker row itself. */
import type { Worker } from '../../types.js';
import { call, type Unit } from '../unit.js';

/**
 * Registers or refreshes a worker; a WORKER_UPDATED event when it is new, comes back
 * from STALE or STOPPED, or changes its capabilities.
 * Relies on: lockWorker serializing two registrations of one worker id, so that the
 * second reads the state the first wrote (each would otherwise see no row, and both
 * announce a new worker). SQLite's single writer does the same.
 */
export function* touchWorker(workerId: string, capabilities: string | null, now: number): Unit<Worker> {
  yield* call('lockWorker', workerId);
  const before = yield* call('workerState', workerId);
  const worker = yield* call('upsertWorker', workerId, capabilities, now);
  if (!before || before.status !== 'ACTIVE' || (capabilities !== null && capabilities !== before.capabilities)) {
    yield* call('appendEvent', { kind: 'WORKER_UPDATED', at: now, workerId });
  }
  return worker;
}

/** A claim's worker upkeep: one UPDATE in the common case, the full upsert otherwise. */
export function* refreshOrTouchWorker(workerId: string, capabilities: string | null, now: number): Unit<void> {
  if (!(yield* call('refreshWorkerIfActive', workerId, capabilities, now))) yield* touchWorker(workerId, capabilities, now);
}

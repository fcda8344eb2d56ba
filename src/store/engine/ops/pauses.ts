/**
 * Pausing a queue, or one type in it: claims of what is paused hand out nothing (claim.ts
 * reads the pauses with the limits), enqueues go on. A change is announced on the outbox
 * as QUEUE_UPDATED, which wakes the queue's long-polls (a resume hands work out at once)
 * and re-sends its stats to subscribers.
 */
import { call, type Unit } from '../unit.js';

/** Pauses (or resumes) `queue`, or one `type` in it; false when it already was. */
export function* setPaused(queue: string, type: string | null, paused: boolean, now: number): Unit<boolean> {
  const changed = paused
    ? yield* call('insertPauseUnlessPaused', queue, type ?? '', now)
    : yield* call('deletePauseIfPaused', queue, type ?? '');
  if (changed) yield* call('appendEvent', { kind: 'QUEUE_UPDATED', at: now, queue, type });
  return changed;
}

/**
 * Schedule timing that holds for every driver: when an upserted or re-enabled schedule
 * fires next, how many fires a down scheduler missed, and the idempotency key that makes
 * one due time enqueue one task however many schedulers tick at once.
 */
import { nextFire, type ScheduleTiming } from '../../schedule.js';

/** A schedule as stored: its timing, the grid it fires on, and its next fire. */
export interface StoredTiming extends ScheduleTiming {
  enabled: boolean;
  anchorAt: number;
  nextRunAt: number | null;
}

/** Most missed fires counted one by one; beyond it the log says "at least". */
export const MAX_MISSED = 1000;

/**
 * The anchor and next fire of a schedule being written at `now`. A changed timing starts a
 * new grid from now; an unchanged one keeps its grid and, if it was enabled, its next fire.
 * A disabled schedule has no next fire; enabling one starts from now, so fires that fell
 * while it was disabled are not caught up.
 */
export function upsertTiming(before: StoredTiming | null, timing: ScheduleTiming, enabled: boolean, now: number): { anchorAt: number; nextRunAt: number | null } {
  const sameTiming =
    before !== null && before.cron === timing.cron && before.intervalSeconds === timing.intervalSeconds && before.timezone === timing.timezone;
  const anchorAt = sameTiming ? before.anchorAt : now;
  if (!enabled) return { anchorAt, nextRunAt: null };
  const keepNext = sameTiming && before.enabled && before.nextRunAt !== null;
  return { anchorAt, nextRunAt: keepNext ? before.nextRunAt : nextFire(timing, now, anchorAt) };
}

/** The next fire after enabling or disabling a stored schedule at `now`. */
export function toggledNextRun(row: StoredTiming, enabled: boolean, now: number): number | null {
  if (!enabled) return null;
  return row.enabled ? row.nextRunAt : nextFire(row, now, row.anchorAt);
}

/**
 * A due schedule's fire at `now`: the due time it fires for, how many later fires fell in
 * the downtime (they collapse into this one run, counted up to MAX_MISSED), the next fire
 * after now, and the task's idempotency key.
 */
export function planFire(name: string, row: StoredTiming & { nextRunAt: number }, now: number): { fireAt: number; missed: number; next: number | null; key: string } {
  const fireAt = row.nextRunAt;
  let missed = 0;
  for (let probe = nextFire(row, fireAt, row.anchorAt); probe !== null && probe <= now && missed < MAX_MISSED; ) {
    missed++;
    probe = nextFire(row, probe, row.anchorAt);
  }
  return { fireAt, missed, next: nextFire(row, now, row.anchorAt), key: fireKey(name, fireAt) };
}

/** One key per schedule and due time: a second scheduler firing it gets created = false. */
export function fireKey(name: string, fireAt: number): string {
  return `schedule:${name}:${new Date(fireAt).toISOString()}`;
}

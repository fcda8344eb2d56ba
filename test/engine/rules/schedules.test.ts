/** Schedule timing rules, without a database. */
import { describe, expect, it } from 'vitest';
import { MAX_MISSED, fireKey, planFire, toggledNextRun, upsertTiming, type StoredTiming } from '../../../src/store/engine/rules/schedules.js';

const T0 = Date.UTC(2025, 0, 1);
const every10s = { cron: null, intervalSeconds: 10, timezone: 'UTC' };
const stored = (over: Partial<StoredTiming> = {}): StoredTiming => ({ ...every10s, enabled: true, anchorAt: T0, nextRunAt: T0 + 10_000, ...over });

describe('upsertTiming', () => {
  it('a new schedule starts its grid now', () => {
    expect(upsertTiming(null, every10s, true, T0 + 3_000)).toEqual({ anchorAt: T0 + 3_000, nextRunAt: T0 + 13_000 });
  });

  it('an unchanged timing keeps its grid and its next fire', () => {
    expect(upsertTiming(stored(), every10s, true, T0 + 7_000)).toEqual({ anchorAt: T0, nextRunAt: T0 + 10_000 });
  });

  it('a changed timing starts a new grid from now', () => {
    expect(upsertTiming(stored(), { ...every10s, intervalSeconds: 60 }, true, T0 + 7_000)).toEqual({ anchorAt: T0 + 7_000, nextRunAt: T0 + 67_000 });
  });

  it('disabled: no next fire; enabling an unchanged one continues its grid from now, not from the missed fires', () => {
    expect(upsertTiming(stored(), every10s, false, T0 + 7_000).nextRunAt).toBeNull();
    expect(upsertTiming(stored({ enabled: false, nextRunAt: null }), every10s, true, T0 + 95_000)).toEqual({ anchorAt: T0, nextRunAt: T0 + 100_000 });
  });
});

describe('toggledNextRun', () => {
  it('disabling clears the next fire; enabling picks the next grid point after now; enabled stays as it is', () => {
    expect(toggledNextRun(stored(), false, T0)).toBeNull();
    expect(toggledNextRun(stored({ enabled: false, nextRunAt: null }), true, T0 + 42_000)).toBe(T0 + 50_000);
    expect(toggledNextRun(stored(), true, T0 + 42_000)).toBe(T0 + 10_000);
  });
});

describe('planFire', () => {
  it('fires for the due time, counts the fires that fell in the downtime, and names the next one', () => {
    const plan = planFire('tick', { ...stored(), nextRunAt: T0 + 10_000 }, T0 + 45_000);
    expect(plan).toEqual({ fireAt: T0 + 10_000, missed: 3, next: T0 + 50_000, key: `schedule:tick:${new Date(T0 + 10_000).toISOString()}` });
  });

  it('on time: nothing missed', () => {
    expect(planFire('tick', { ...stored(), nextRunAt: T0 + 10_000 }, T0 + 10_000).missed).toBe(0);
  });

  it('counts at most MAX_MISSED', () => {
    expect(planFire('tick', { ...stored(), nextRunAt: T0 + 10_000 }, T0 + 10_000 * (MAX_MISSED + 500)).missed).toBe(MAX_MISSED);
  });

  it('one key per schedule and due time', () => {
    expect(fireKey('a', T0)).toBe('schedule:a:2025-01-01T00:00:00.000Z');
    expect(fireKey('a', T0)).not.toBe(fireKey('b', T0));
    expect(fireKey('a', T0)).not.toBe(fireKey('a', T0 + 1));
  });
});

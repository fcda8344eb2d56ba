/** Queue stats folded from a driver's counts, without a database. */
import { describe, expect, it } from 'vitest';
import { foldStats } from '../../../src/store/engine/rules/stats.js';

describe('foldStats', () => {
  const parts = {
    grouped: [
      { type: 'video', status: 'QUEUED' as const, count: 3 },
      { type: 'video', status: 'RUNNING' as const, count: 1 },
      { type: 'audio', status: 'QUEUED' as const, count: 2 },
      { type: 'audio', status: 'FAILED' as const, count: 4 },
      { type: 'audio', status: 'BLOCKED' as const, count: 5 },
    ],
    oldestQueuedCreatedAt: 10_000,
    finishedSince: [
      { status: 'SUCCEEDED' as const, count: 7 },
      { status: 'CANCELLED' as const, count: 1 },
    ],
    activeWorkers: 2,
  };

  it('sums statuses over types, lists every status once, and sorts types by name', () => {
    const s = foldStats('q', parts, 25_000);
    expect(s.queue).toBe('q');
    expect(s.counts).toEqual([
      { status: 'BLOCKED', count: 5 },
      { status: 'QUEUED', count: 5 },
      { status: 'RUNNING', count: 1 },
      { status: 'SUCCEEDED', count: 0 },
      { status: 'FAILED', count: 4 },
      { status: 'CANCELLED', count: 0 },
    ]);
    expect(s.byType).toEqual([
      { type: 'audio', queued: 2, running: 0, succeeded: 0, failed: 4 },
      { type: 'video', queued: 3, running: 1, succeeded: 0, failed: 0 },
    ]);
    expect(s.activeWorkers).toBe(2);
    expect(s.succeededLastMinute).toBe(7);
    expect(s.failedLastMinute).toBe(0);
  });

  it('the oldest queued age is in seconds, never negative, and null with nothing queued', () => {
    expect(foldStats(null, parts, 25_000).oldestQueuedAgeSeconds).toBe(15);
    expect(foldStats(null, parts, 9_000).oldestQueuedAgeSeconds).toBe(0);
    expect(foldStats(null, { ...parts, oldestQueuedCreatedAt: null }, 9_000).oldestQueuedAgeSeconds).toBeNull();
  });
});

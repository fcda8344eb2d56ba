/** Claim budgets, WEIGHTED_RANDOM levels and the merge of per-type walks, without a database. */
import { describe, expect, it } from 'vitest';
import { ClaimBudget, MAX_LEVELS, comparator, drawLevel, mergeSorted, weightedLevels, type Candidate } from '../../../src/store/engine/rules/claiming.js';

const running = (counts: Record<string, number>, total = 0) => (type: string | null) => (type === null ? total : (counts[type] ?? 0));

describe('ClaimBudget', () => {
  it('without limits, a claim takes what it asked for', () => {
    const b = new ClaimBudget([], running({}), 5);
    expect(b.wanted).toBe(5);
    expect(b.maxRounds).toBe(1);
    expect(b.offer('anything')).toBe(true);
  });

  it('a queue-wide limit caps the claim at the free slots', () => {
    expect(new ClaimBudget([{ type: '', maxRunning: 4 }], running({}, 3), 10).wanted).toBe(1);
    expect(new ClaimBudget([{ type: '', maxRunning: 4 }], running({}, 9), 10).wanted).toBe(0);
  });

  it('a type limit reserves slots one by one, then excludes the type and asks for another round', () => {
    const b = new ClaimBudget([{ type: 'video', maxRunning: 2 }], running({ video: 1 }), 5);
    expect(b.excluded).toEqual([]);
    expect(b.offer('video')).toBe(true);
    b.took();
    expect(b.offer('video')).toBe(false);
    expect(b.excluded).toEqual(['video']);
    expect(b.offer('thumbnail')).toBe(true);
    b.took();
    expect(b.wanted).toBe(3);
    expect(b.endRound()).toBe(true); // skipped one: look again without video
    expect(b.endRound()).toBe(false); // nothing skipped since
  });

  it('a type already at its limit is excluded before the first walk', () => {
    const b = new ClaimBudget([{ type: 'video', maxRunning: 2 }, { type: 'audio', maxRunning: 1 }], running({ video: 5 }), 3);
    expect(b.excluded).toEqual(['video']);
    expect(b.maxRounds).toBe(3);
  });

  it('no further round once the claim is full', () => {
    const b = new ClaimBudget([{ type: 'video', maxRunning: 1 }], running({ video: 1 }), 1);
    expect(b.offer('video')).toBe(false);
    expect(b.offer('x')).toBe(true);
    b.took();
    expect(b.endRound()).toBe(false);
  });
});

describe('WEIGHTED_RANDOM levels', () => {
  it('weigh rank r as 1 / (r + 1), most urgent first', () => {
    expect(weightedLevels([10, 20, 30], false)).toEqual([
      { priority: 10, mode: 'eq', weight: 1 },
      { priority: 20, mode: 'eq', weight: 1 / 2 },
      { priority: 30, mode: 'eq', weight: 1 / 3 },
    ]);
  });

  it('past MAX_LEVELS the rest is one tail level after the last one found', () => {
    const found = Array.from({ length: MAX_LEVELS }, (_, i) => i);
    const levels = weightedLevels(found, true);
    expect(levels).toHaveLength(MAX_LEVELS + 1);
    expect(levels.at(-1)).toEqual({ priority: MAX_LEVELS - 1, mode: 'gt', weight: 1 / (MAX_LEVELS + 1) });
  });

  it('a draw lands on each level in proportion to its weight', () => {
    const levels = weightedLevels([1, 2, 3], false); // weights 1, 1/2, 1/3: total 11/6
    expect(drawLevel(levels, 0)).toBe(0);
    expect(drawLevel(levels, 6 / 11 - 1e-9)).toBe(0);
    expect(drawLevel(levels, 6 / 11 + 1e-9)).toBe(1);
    expect(drawLevel(levels, 9 / 11 + 1e-9)).toBe(2);
    expect(drawLevel(levels, 0.999999)).toBe(2);
    const counts = [0, 0, 0];
    for (let i = 0; i < 11_000; i++) counts[drawLevel(levels, (i + 0.5) / 11_000)]!++;
    expect(counts).toEqual([6000, 3000, 2000]);
  });
});

describe('mergeSorted', () => {
  const c = (id: number, priority = 0, type = 't'): Candidate => ({ id, priority, type });

  it('merges per-type walks in strategy order, keeping the first `limit`', () => {
    const a = [c(1, 5), c(4, 5), c(9, 7)];
    const b = [c(2, 1), c(3, 9)];
    expect(mergeSorted([a, b], comparator('PRIORITY'), 10).map((x) => x.id)).toEqual([2, 1, 4, 9, 3]);
    expect(mergeSorted([a, b], comparator('FIFO'), 4).map((x) => x.id)).toEqual([1, 2, 3, 4]);
    expect(mergeSorted([[c(9), c(4)], [c(5), c(2)]], comparator('LIFO'), 10).map((x) => x.id)).toEqual([9, 5, 4, 2]);
  });

  it('one list is returned as it is', () => {
    const only = [c(1), c(2)];
    expect(mergeSorted([only], comparator('FIFO'), 1)).toBe(only);
  });
});

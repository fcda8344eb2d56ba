/** Where a task with dependencies starts, and the reasons of a cascade. */
import { describe, expect, it } from 'vitest';
import { cancelledReason, cascadedReason, initialState } from '../../../src/store/engine/rules/dependencies.js';

describe('initialState', () => {
  it('QUEUED with no dependencies, or when all have SUCCEEDED', () => {
    expect(initialState([], [])).toEqual({ status: 'QUEUED', reason: null });
    expect(initialState([1, 2], [{ id: 1, status: 'SUCCEEDED' }, { id: 2, status: 'SUCCEEDED' }])).toEqual({ status: 'QUEUED', reason: null });
  });

  it('BLOCKED while any is pending', () => {
    for (const pending of ['QUEUED', 'RUNNING', 'BLOCKED'] as const) {
      expect(initialState([1, 2], [{ id: 1, status: 'SUCCEEDED' }, { id: 2, status: pending }]).status).toBe('BLOCKED');
    }
  });

  it('CANCELLED, naming the dependency, when one FAILED or was CANCELLED (even beside pending ones)', () => {
    expect(initialState([1, 2], [{ id: 1, status: 'QUEUED' }, { id: 2, status: 'FAILED' }])).toEqual({ status: 'CANCELLED', reason: 'dependency 2 is FAILED' });
    expect(initialState([3], [{ id: 3, status: 'CANCELLED' }])).toEqual({ status: 'CANCELLED', reason: 'dependency 3 is CANCELLED' });
  });

  it('VALIDATION naming the ids that do not exist', () => {
    expect(() => initialState([1, 2, 3], [{ id: 2, status: 'QUEUED' }])).toThrow(/dependsOn names tasks that do not exist: 1, 3/);
  });
});

describe('cascade reasons', () => {
  it('keep the root cause as they pass down', () => {
    const first = cancelledReason(1);
    expect(first).toBe('dependency 1 was cancelled');
    expect(cascadedReason(2, first)).toBe('dependency 2 was cancelled (dependency 1 was cancelled)');
  });
});

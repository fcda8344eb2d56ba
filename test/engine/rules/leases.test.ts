/** Fencing: which error a call gets when its lease matched no RUNNING task. */
import { describe, expect, it } from 'vitest';
import { leaseMiss } from '../../../src/store/engine/rules/leases.js';

const held = { status: 'RUNNING' as const, leaseToken: 'tok', lockedBy: 'w1' };
const codeOf = (e: ReturnType<typeof leaseMiss>) => e?.code ?? null;

describe('leaseMiss', () => {
  it('NOT_FOUND when the task does not exist', () => {
    expect(codeOf(leaseMiss(9, undefined, 'tok'))).toBe('NOT_FOUND');
    expect(codeOf(leaseMiss(9, null, 'tok'))).toBe('NOT_FOUND');
  });

  it('LEASE_LOST when the token is not the current one, or the task no longer runs', () => {
    expect(codeOf(leaseMiss(9, held, 'old'))).toBe('LEASE_LOST');
    expect(codeOf(leaseMiss(9, { ...held, status: 'QUEUED', leaseToken: null }, 'tok'))).toBe('LEASE_LOST');
    expect(codeOf(leaseMiss(9, { ...held, status: 'SUCCEEDED' }, 'tok'))).toBe('LEASE_LOST');
  });

  it('FORBIDDEN when the token is right but another worker holds it', () => {
    const e = leaseMiss(9, held, 'tok', 'w2');
    expect(codeOf(e)).toBe('FORBIDDEN');
    expect(e?.message).toBe('task 9 is leased to another worker');
  });

  it('null when the lease is in fact held (by anyone, or by the named holder)', () => {
    expect(leaseMiss(9, held, 'tok')).toBeNull();
    expect(leaseMiss(9, held, 'tok', 'w1')).toBeNull();
  });
});

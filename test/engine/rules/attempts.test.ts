/** How an attempt that did not succeed ends: decided without a database. */
import { describe, expect, it } from 'vitest';
import { decideAttemptEnd, type AttemptFailure } from '../../../src/store/engine/rules/attempts.js';

const backoff = { baseMs: 1000, capMs: 60_000, random: () => 0.5 };
const task = (attempts: number, maxAttempts = 3, cancelRequested = false) => ({ id: 7, attempts, maxAttempts, cancelRequested });
const failure = (f: Partial<AttemptFailure> = {}): AttemptFailure => ({ error: 'boom', retryable: true, retryAfterSeconds: null, cause: null, ...f });

describe('decideAttemptEnd', () => {
  it('retries with full-jitter backoff while attempts remain', () => {
    expect(decideAttemptEnd(task(1), failure(), backoff)).toEqual({
      step: 'retryLater',
      status: 'QUEUED',
      errorMessage: 'boom',
      delayMs: 500, // random 0.5 of min(cap, 1000 * 2^0)
      events: ['RETRY_SCHEDULED'],
      cascadeReason: null,
    });
    // The ceiling doubles per attempt, up to the cap.
    expect(decideAttemptEnd(task(2), failure(), backoff).delayMs).toBe(1000);
    expect(decideAttemptEnd(task(20, 30), failure(), backoff).delayMs).toBe(30_000);
  });

  it("uses the worker's retryAfterSeconds instead of the backoff", () => {
    expect(decideAttemptEnd(task(1), failure({ retryAfterSeconds: 42 }), backoff).delayMs).toBe(42_000);
    expect(decideAttemptEnd(task(1), failure({ retryAfterSeconds: 0 }), backoff).delayMs).toBe(0);
  });

  it('fails on the last attempt, and cascades to dependents', () => {
    expect(decideAttemptEnd(task(3), failure(), backoff)).toEqual({
      step: 'fail',
      status: 'FAILED',
      errorMessage: 'boom',
      delayMs: null,
      events: ['FAILED'],
      cascadeReason: 'dependency 7 FAILED',
    });
  });

  it('fails at once when the error is not retryable, whatever attempts remain', () => {
    expect(decideAttemptEnd(task(1, 100), failure({ retryable: false }), backoff).status).toBe('FAILED');
  });

  it('ends CANCELLED when a cancel was requested, before any retry', () => {
    const end = decideAttemptEnd(task(1, 100, true), failure({ cause: 'TIMED_OUT' }), backoff);
    expect(end).toEqual({
      step: 'cancelAtAttemptEnd',
      status: 'CANCELLED',
      errorMessage: 'cancelled: boom',
      delayMs: null,
      events: ['TIMED_OUT', 'CANCELLED'],
      cascadeReason: 'dependency 7 was cancelled',
    });
  });

  it('requeues at once, with no RETRY_SCHEDULED, after a lapsed lease (the worker vanished)', () => {
    expect(decideAttemptEnd(task(1), failure({ cause: 'LEASE_EXPIRED', retryAfterSeconds: 99 }), backoff)).toMatchObject({
      status: 'QUEUED',
      delayMs: 0,
      events: ['LEASE_EXPIRED'],
    });
    // ...but a lapsed lease on the last attempt still fails it.
    expect(decideAttemptEnd(task(3), failure({ cause: 'LEASE_EXPIRED' }), backoff).events).toEqual(['LEASE_EXPIRED', 'FAILED']);
  });

  it('records a timeout before the retry it leads to', () => {
    expect(decideAttemptEnd(task(1), failure({ cause: 'TIMED_OUT' }), backoff).events).toEqual(['TIMED_OUT', 'RETRY_SCHEDULED']);
  });
});
